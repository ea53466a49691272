/**
 * A second backend in one file: NFS shares mounted with the kernel's NFSv4 client. Everything
 * else (mount paths, the lock per mount point, attachment counting, stale and hung mounts,
 * busy unmounts, the libvirt XML) comes from {@link FileSystemVolumeDriver}.
 *
 * @module
 */
import {
  FileSystemVolumeDriver,
  InvalidConnectionInfoError,
  type Command,
  type FileSystemVolumeDriverOptions,
  type MountEntry,
} from '../../lib/index.js';

/** Options for {@link NfsVolumeDriver}. */
export interface NfsVolumeDriverOptions extends FileSystemVolumeDriverOptions {
  /** Passed as `mount -o <mountOptions>`, e.g. `vers=4.2,hard,timeo=600` (Nova: `nfs_mount_options`). */
  mountOptions?: string;
}

/** A DNS name, an IPv4 address or a bracketed IPv6 address; never starts with `-`. */
const HOST = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])`;
/** `host:/path`: an absolute path, no whitespace, no control characters. */
const EXPORT_SHAPE = new RegExp(String.raw`^${HOST}:/[^\s\u0000-\u001f\u007f]*$`);
/** One argv word that `mount` cannot take for an option of its own. */
const MOUNT_OPTIONS_SHAPE = new RegExp(String.raw`^[^\s\u0000-\u001f\u007f-][^\s\u0000-\u001f\u007f]*$`);

/** Attaches volumes that are files on an NFS share (`driver_volume_type: 'nfs'`). */
export class NfsVolumeDriver extends FileSystemVolumeDriver {
  protected override readonly driverVolumeType = 'nfs';
  readonly #mountOptions: string | undefined;

  /** @throws TypeError when an option has the wrong type or range. */
  constructor(options: NfsVolumeDriverOptions) {
    super(options);
    const { mountOptions } = options;
    if (mountOptions !== undefined && (typeof mountOptions !== 'string' || !MOUNT_OPTIONS_SHAPE.test(mountOptions))) {
      throw new TypeError(`Expected mountOptions to be one word such as "vers=4.2,hard", got ${JSON.stringify(mountOptions)}`);
    }
    this.#mountOptions = mountOptions;
  }

  /** `host:/path`; so it never starts with `-` and cannot smuggle in options or arguments. */
  protected override checkExport(exportName: string): void {
    if (!EXPORT_SHAPE.test(exportName)) {
      throw new InvalidConnectionInfoError('data.export', `must look like host:/path, got ${JSON.stringify(exportName)}`);
    }
  }

  /** `mount -t nfs4 [-o <options>] <export> <mount path>`. */
  protected override buildMountCommand(exportName: string, mountPath: string): Command {
    const options = this.#mountOptions === undefined ? [] : ['-o', this.#mountOptions];
    return { file: 'mount', args: ['-t', 'nfs4', ...options, exportName, mountPath] };
  }

  /** The kernel reports `nfs4` for NFSv4 mounts and `nfs` for v2 and v3. */
  protected override isOwnMount(entry: MountEntry): boolean {
    return entry.fsType === 'nfs' || entry.fsType === 'nfs4';
  }
}
