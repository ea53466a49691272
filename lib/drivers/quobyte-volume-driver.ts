import type { Command } from '../commands/command-runner.js';
import { InvalidConnectionInfoError, type StaleReason } from '../errors.js';
import type { MountEntry, PathStat } from '../filesystem/file-system-probe.js';
import { quoteInput } from '../text/quote-input.js';
import { FileSystemVolumeDriver, type FileSystemVolumeDriverOptions } from './file-system-volume-driver.js';

/** Options for {@link QuobyteVolumeDriver}. */
export interface QuobyteVolumeDriverOptions extends FileSystemVolumeDriverOptions {
  /** Quobyte client configuration file, passed as `-c <file>` (Nova: `quobyte_client_cfg`). */
  clientConfigFile?: string;
}

/** `quobyte://` is stripped once, exactly as Nova and Cinder do. */
const PROTOCOL_PREFIX = 'quobyte://';
/** A registry host: a DNS name, an IPv4 address, or a bracketed IPv6 address. */
const HOST = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])`;
const REGISTRY = String.raw`${HOST}(?::[0-9]{1,5})?`;
/** A volume name: no `/`, whitespace or control characters, not `.` or `..`. */
const VOLUME = String.raw`(?!\.\.?$)[^/\s\u0000-\u001f\u007f]+`;
const EXPORT_SHAPE = new RegExp(String.raw`^${REGISTRY}(?:,${REGISTRY})*/${VOLUME}$`);
const PORT = /:([0-9]{1,5})(?=,|\/)/g;

/**
 * Attaches Quobyte volumes the way OpenStack Nova's `LibvirtQuobyteVolumeDriver` does (same
 * mount directories, commands and XML), without its faults: shared mounts are counted, stale
 * and hung mounts are repaired, locks are per mount point, failures are thrown, and input is
 * checked before it reaches argv or a path.
 *
 * @example
 * ```ts
 * import { QuobyteVolumeDriver, formatDiskXml } from 'libvirt-volume-driver';
 *
 * const driver = new QuobyteVolumeDriver({ mountPointBase: '/var/lib/nova/mnt' });
 * const ci = { driver_volume_type: 'quobyte', data: { export: 'quobyte://registry:7861/vols', name: 'volume-1' } };
 * const instance = { uuid: '6f1c6e1e-4c2c-4b4e-9d3e-0d6d1f1e2a3b' };
 *
 * await driver.connectVolume(ci, instance);
 * const xml = formatDiskXml(driver.getConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }));
 * // ... virsh attach-device with xml ...
 * const { unmounted, reason } = await driver.disconnectVolume(ci, instance);
 * ```
 */
export class QuobyteVolumeDriver extends FileSystemVolumeDriver {
  protected override readonly driverVolumeType = 'quobyte';
  readonly #clientConfigFile: string | undefined;

  /** @throws TypeError when an option has the wrong type or range. */
  constructor(options: QuobyteVolumeDriverOptions) {
    super(options);
    const { clientConfigFile } = options;
    if (clientConfigFile !== undefined && (typeof clientConfigFile !== 'string' || clientConfigFile === '' || clientConfigFile.startsWith('-'))) {
      throw new TypeError(`Expected clientConfigFile to be a path, got ${JSON.stringify(clientConfigFile)}`);
    }
    this.#clientConfigFile = clientConfigFile;
  }

  /** Strips one leading `quobyte://`, case-sensitively; anything else is kept as it is. */
  protected override normalizeExport(exportName: string): string {
    return exportName.startsWith(PROTOCOL_PREFIX) ? exportName.slice(PROTOCOL_PREFIX.length) : exportName;
  }

  /** `host[:port][,host[:port]...]/volume`; so it never starts with `-` and carries no options. */
  protected override checkExport(exportName: string): void {
    if (!EXPORT_SHAPE.test(exportName)) {
      throw new InvalidConnectionInfoError('data.export', `must look like host[:port][,host[:port]...]/volume, got ${quoteInput(exportName)}`);
    }
    for (const [, port] of exportName.matchAll(PORT)) {
      if (Number(port) < 1 || Number(port) > 65_535) {
        throw new InvalidConnectionInfoError('data.export', `has port ${port} out of range`);
      }
    }
  }

  /**
   * `mount.quobyte --disable-xattrs <export> <mount path> [-c <cfg>]`: Nova's argv. Extended
   * attributes are off for speed (Nova bug 1659328).
   */
  protected override buildMountCommand(exportName: string, mountPath: string): Command {
    const args = ['--disable-xattrs', exportName, mountPath];
    if (this.#clientConfigFile !== undefined) args.push('-c', this.#clientConfigFile);
    return { file: 'mount.quobyte', args };
  }

  /**
   * Quobyte 2.x and later report type `fuse.quobyte`; older clients plain `fuse` with a source
   * starting `quobyte@`. Another FUSE file system (`fuse.sshfs` as a user named quobyte) whose
   * source starts `quobyte@` is not ours, and is never unmounted.
   */
  protected override isOwnMount(entry: MountEntry): boolean {
    return entry.fsType === 'fuse.quobyte' || (entry.fsType === 'fuse' && entry.source.startsWith('quobyte@'));
  }

  /** A Quobyte mount's root always reports size 0; anything else is a stale mount. */
  protected override checkMountRoot(stat: PathStat): StaleReason | undefined {
    return stat.size === 0 ? undefined : 'nonzero-size';
  }
}
