import type { Command } from 'commander';
import { formatPlanOrThrow } from '../../plans/format-plan.js';
import type { RunCliOptions } from '../cli-context.js';
import { EXIT_UNRESPONSIVE } from '../cli-exit.js';
import { addVolumeOptions, buildConnectionInfo, type VolumeOptions } from '../connection-options.js';
import { addExportHostOptions } from './connect.js';
import { printable } from '../printable.js';

interface RepairCommandOptions extends VolumeOptions {
  base?: string;
  cfg?: string;
  state?: string;
  force?: boolean;
  dryRun?: boolean;
  timeoutMs?: number;
  probeTimeoutMs?: number;
}

/**
 * `repair`: a deliberate repair of one export's mount (`driver.repairMount`), recording no
 * attachment. A stale mount is unmounted and mounted again; a hung mount in use is refused
 * ({@link EXIT_UNRESPONSIVE}) unless `--force`, which takes the disk from its guests.
 */
export function registerRepairCommand(program: Command, deps: RunCliOptions): void {
  const command = program.command('repair').description('unmount and mount again a stale or hung mount, on purpose (records no attachment)');
  addVolumeOptions(command);
  addExportHostOptions(command);
  command.option('--force', 'repair a hung mount even while it is in use (see below)');
  command.addHelpText(
    'after',
    [
      '',
      'A stale mount (client gone, ENOTCONN) is unmounted and mounted again. A mount that does',
      'not answer stat within the probe timeout and is in use (attachments recorded in the',
      'store, or files open on it) is left alone: slow is not dead. --force aborts its FUSE',
      'connection, detaches it (umount -l) and mounts it again; guests on the old mount lose',
      'their disk: every I/O on it fails with ENOTCONN or ECONNABORTED. Stop or migrate them',
      'first, or accept that. A healthy mount, or none, is left as it is.',
      '',
      'Exit status:',
      '  0  repaired, or nothing to repair (healthy, not mounted)',
      '  1  failed (one line on stderr)',
      '  2  usage error',
      `  ${EXIT_UNRESPONSIVE}  hung and in use: left alone (ERR_VOLUME_UNRESPONSIVE); --force repairs it`,
    ].join('\n'),
  );
  command.action(async () => {
    const { openDriver } = await import('../cli-context.js');
    const options = command.opts<RepairCommandOptions>();
    const { driver } = openDriver(deps, options);
    const ci = buildConnectionInfo(options);
    const how = { force: options.force === true };
    if (options.dryRun === true) {
      deps.stdout.write(formatPlanOrThrow((await driver.planRepair(ci, how)).steps));
      return;
    }
    const { mountPath, outcome, staleReason } = await driver.repairMount(ci, how);
    const path = printable(mountPath);
    deps.stdout.write(outcome === 'repaired' ? `repaired ${path} (was stale: ${staleReason ?? 'unknown'})\n` : `${outcome} ${path}: nothing to repair\n`);
  });
}

