import type { Command } from '../commands/command-runner.js';
import type { StaleReason } from '../errors.js';
import type { MountEntry, PathStat } from '../filesystem/file-system-probe.js';
import { FileSystemVolumeDriver, type FileSystemVolumeDriverOptions } from './file-system-volume-driver.js';
import { checkQuobyteExport, isQuobyteMount, normalizeQuobyteExport, quobyteMountCommand } from './quobyte-export.js';

/** Options for {@link QuobyteVolumeDriver}. */
export interface QuobyteVolumeDriverOptions extends FileSystemVolumeDriverOptions {
  /** Quobyte client configuration file, passed as `-c <file>` (Nova: `quobyte_client_cfg`). */
  clientConfigFile?: string;
}

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
    return normalizeQuobyteExport(exportName);
  }

  /** `host[:port][,host[:port]...]/volume`; so it never starts with `-` and carries no options. */
  protected override checkExport(exportName: string): void {
    checkQuobyteExport(exportName);
  }

  /** `mount.quobyte --disable-xattrs <export> <mount path> [-c <cfg>]` (see `quobyteMountCommand`). */
  protected override buildMountCommand(exportName: string, mountPath: string): Command {
    return quobyteMountCommand(exportName, mountPath, this.#clientConfigFile);
  }

  /** `fuse.quobyte`, or a plain `fuse` mount whose source starts `quobyte@` (see `isQuobyteMount`). */
  protected override isOwnMount(entry: MountEntry): boolean {
    return isQuobyteMount(entry);
  }

  /** A Quobyte mount's root always reports size 0; anything else is a stale mount. */
  protected override checkMountRoot(stat: PathStat): StaleReason | undefined {
    return stat.size === 0 ? undefined : 'nonzero-size';
  }
}
