/**
 * The options that describe a volume and the host, shared by the commands, and the connection
 * info built from them. Values are passed through as they are: the library's own validation
 * decides what is refused, so the CLI refuses exactly what the library refuses.
 *
 * @module
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { ConnectionInfo, InstanceRef } from '../drivers/connection-info.js';
import { DEFAULT_MOUNT_BASE, MOUNT_BASE_ENV, STATE_ENV, DEFAULT_STATE_FILE_NAME } from './cli-defaults.js';

/** Options that name a volume. */
export interface VolumeOptions {
  export: string;
  name: string;
  format?: string;
  serial?: string;
  volumeId?: string;
}

/** A whole number of milliseconds; range is the driver's to check. */
function parseMilliseconds(value: string): number {
  if (!/^[0-9]{1,15}$/.test(value)) {
    throw new InvalidArgumentError('Expected a whole number of milliseconds.');
  }
  return Number(value);
}

/** `--export` and `--name` (required), `--format`, `--serial`, `--volume-id`. */
export function addVolumeOptions(command: Command): Command {
  return command
    .requiredOption('--export <export>', 'Quobyte export, [quobyte://]host[:port][,host[:port]...]/volume')
    .requiredOption('--name <name>', 'disk image file in the export (one path component), e.g. volume-<uuid>')
    .option('--format <format>', 'image format: raw or qcow2 (default: raw)')
    .option('--serial <serial>', 'volume serial; names the attachment when --volume-id is not given')
    .option('--volume-id <id>', 'Cinder volume id; names the attachment (<instance>/<volume id>, else serial, else name)');
}

/** `--base`. */
export function addBaseOption(command: Command): Command {
  return command.option('--base <dir>', `mount point base (default: $${MOUNT_BASE_ENV}, else ${DEFAULT_MOUNT_BASE})`);
}

/** `--state`. */
export function addStateOption(command: Command): Command {
  return command.option('--state <file>', `attachment store file (default: $${STATE_ENV}, else <base>/${DEFAULT_STATE_FILE_NAME})`);
}

/** `--probe-timeout-ms`. */
export function addProbeTimeoutOption(command: Command): Command {
  return command.option('--probe-timeout-ms <ms>', 'how long a mount may take to answer stat before it counts as hung (default: 5000)', parseMilliseconds);
}

/** `--timeout-ms`. */
export function addCommandTimeoutOption(command: Command): Command {
  return command.option('--timeout-ms <ms>', 'timeout of each mount and unmount command (default: 60000)', parseMilliseconds);
}

/** Connection info in Cinder's wire shape; optional fields only when given. */
export function buildConnectionInfo(
  options: VolumeOptions,
  extra: { readOnly?: boolean; shareable?: boolean; discard?: boolean } = {},
): ConnectionInfo {
  const data: Record<string, unknown> = { export: options.export, name: options.name };
  if (options.format !== undefined) data.format = options.format;
  if (options.volumeId !== undefined) data.volume_id = options.volumeId;
  if (extra.readOnly === true) data.access_mode = 'ro';
  if (extra.discard === true) data.discard = true;
  const ci: Record<string, unknown> = { driver_volume_type: 'quobyte', data };
  if (options.serial !== undefined) ci.serial = options.serial;
  if (extra.shareable === true) ci.multiattach = true;
  // Unchecked on purpose: the driver validates every field before it is used.
  return ci as unknown as ConnectionInfo;
}

/** The guest, as `--instance` names it; the driver checks the uuid. */
export function buildInstanceRef(uuid: string): InstanceRef {
  return { uuid };
}
