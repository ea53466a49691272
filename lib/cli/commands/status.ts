import type { Command } from 'commander';
import type { RunCliOptions } from '../cli-context.js';
import { addBaseOption, addProbeTimeoutOption, addStateOption } from '../connection-options.js';
import { formatStatusTable } from '../format-status-table.js';
import { listVolumeStatus } from '../list-volume-status.js';

interface StatusOptions {
  base?: string;
  state?: string;
  json?: boolean;
  probeTimeoutMs?: number;
}

/**
 * `status`: every mount under the base with its export, health and attachments, and the
 * attachments whose mount is gone; a table, or JSON with `--json`. Changes nothing.
 */
export function registerStatusCommand(program: Command, deps: RunCliOptions): void {
  const command = program.command('status').description('show the mounts under the base, their health and attachments');
  addBaseOption(command);
  addStateOption(command);
  command.option('--json', 'print a JSON array instead of a table');
  addProbeTimeoutOption(command);
  command.action(async () => {
    // The driver is loaded when the command runs, so that `--help` and `config` do not pay for it.
    const { openDriver } = await import('../cli-context.js');
    const options = command.opts<StatusOptions>();
    const { driver, probe } = openDriver(deps, options);
    const rows = await listVolumeStatus(driver, probe);
    if (options.json === true) {
      deps.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    } else if (rows.length === 0) {
      deps.stdout.write(`no mounts or attachments under ${driver.mountPointBase}\n`);
    } else {
      deps.stdout.write(formatStatusTable(rows));
    }
  });
}
