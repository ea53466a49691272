import type { Command } from 'commander';
import type { DiskInfo } from '../../drivers/connection-info.js';
import type { RunCliOptions } from '../cli-context.js';
import { addBaseOption, addVolumeOptions, buildConnectionInfo, type VolumeOptions } from '../connection-options.js';

interface ConfigOptions extends VolumeOptions {
  dev: string;
  bus: string;
  type: string;
  readOnly?: boolean;
  shareable?: boolean;
  discard?: boolean;
  base?: string;
}

/**
 * `config`: prints the libvirt `<disk>` element of a volume (`driver.getConfig` and
 * `formatDiskXml`), as Nova would put it in the domain. Looks at nothing on the host. The driver
 * is loaded when the command runs, so that `--help` and the other commands do not pay for it.
 */
export function registerConfigCommand(program: Command, deps: RunCliOptions): void {
  const command = program.command('config').description('print the libvirt <disk> XML of a volume');
  addVolumeOptions(command);
  command
    .option('--dev <dev>', 'target device in the guest', 'vdb')
    .option('--bus <bus>', 'target bus (virtio, scsi, sata, ...)', 'virtio')
    .option('--type <type>', 'disk device type (disk, lun, cdrom, ...)', 'disk')
    .option('--read-only', 'attach read-only (<readonly/>)')
    .option('--shareable', 'attach to several guests at once (<shareable/>)')
    .option('--discard', 'pass discards down to the image (discard="unmap")');
  addBaseOption(command);
  command.action(async () => {
    const [{ openDriver }, { formatDiskXml }] = await Promise.all([import('../cli-context.js'), import('../../libvirt/format-disk-xml.js')]);
    const options = command.opts<ConfigOptions>();
    const { driver } = openDriver(deps, options);
    const ci = buildConnectionInfo(options, {
      ...(options.readOnly === undefined ? {} : { readOnly: options.readOnly }),
      ...(options.shareable === undefined ? {} : { shareable: options.shareable }),
      ...(options.discard === undefined ? {} : { discard: options.discard }),
    });
    // Unchecked on purpose: the driver refuses a bus or type outside libvirt's sets.
    const diskInfo = { bus: options.bus, dev: options.dev, type: options.type } as DiskInfo;
    const xml = formatDiskXml(driver.getConfig(ci, diskInfo));
    deps.stdout.write(`${xml}\n`);
  });
}
