import type { Command } from 'commander';
import type { OpenedDriver, RunCliOptions } from '../cli-context.js';
import {
  addBaseOption,
  addCommandTimeoutOption,
  addProbeTimeoutOption,
  addStateOption,
  addVolumeOptions,
  buildConnectionInfo,
  buildInstanceRef,
  type VolumeOptions,
} from '../connection-options.js';
import { formatPlanOrThrow } from '../../plans/format-plan.js';

/** Options of `connect` and `disconnect`. */
export interface AttachOptions extends VolumeOptions {
  instance: string;
  base?: string;
  cfg?: string;
  state?: string;
  dryRun?: boolean;
  timeoutMs?: number;
  probeTimeoutMs?: number;
}

/**
 * What `connect` and `disconnect` start from: their options, a driver, the volume and guest.
 * The driver is loaded here, when the command runs, not when the command is defined.
 */
export async function openAttachInvocation(command: Command, deps: RunCliOptions): Promise<OpenedDriver & {
  options: AttachOptions;
  ci: ReturnType<typeof buildConnectionInfo>;
  instance: ReturnType<typeof buildInstanceRef>;
}> {
  const { openDriver } = await import('../cli-context.js');
  const options = command.opts<AttachOptions>();
  return { ...openDriver(deps, options), options, ci: buildConnectionInfo(options), instance: buildInstanceRef(options.instance) };
}

/** The host options of a command on one export (`connect`, `disconnect`, `repair`): base, client configuration, store, dry run, timeouts. */
export function addExportHostOptions(command: Command): Command {
  addBaseOption(command);
  command.option('--cfg <file>', 'Quobyte client configuration file (mount.quobyte -c)');
  addStateOption(command);
  command.option('--dry-run', 'print what would be run and change nothing');
  addCommandTimeoutOption(command);
  addProbeTimeoutOption(command);
  return command;
}

/** The options `connect` and `disconnect` share. */
export function addAttachOptions(command: Command): Command {
  addVolumeOptions(command);
  command.requiredOption('--instance <uuid>', 'the guest the volume is attached to');
  return addExportHostOptions(command);
}

/**
 * `connect`: mounts the export (or reuses a healthy mount, or repairs a stale one) and records
 * the attachment in the store. Prints what happened and the device path.
 */
export function registerConnectCommand(program: Command, deps: RunCliOptions): void {
  const command = program.command('connect').description('mount a volume\'s export and record the attachment');
  addAttachOptions(command);
  command.action(async () => {
    const { options, driver, ci, instance } = await openAttachInvocation(command, deps);
    if (options.dryRun === true) {
      deps.stdout.write(formatPlanOrThrow((await driver.planConnect(ci, instance)).steps));
      return;
    }
    const { mountPath, devicePath, action, staleReason } = await driver.connectVolume(ci, instance);
    const what = action === 'repaired' ? `remounted ${mountPath} (was stale: ${staleReason ?? 'unknown'})` : `${action} ${mountPath}`;
    deps.stdout.write(`${what}, device ${devicePath}\n`);
  });
}
