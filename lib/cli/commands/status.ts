import { Option, type Command } from 'commander';
import type { RunCliOptions } from '../cli-context.js';
import { checkHostPaths } from '../check-host-paths.js';
import { CliExit, EXIT_DEGRADED, EXIT_NOT_FOUND } from '../cli-exit.js';
import { CliUsageError } from '../cli-usage-error.js';
import { resolveMountBase, resolveStatePath } from '../cli-defaults.js';
import { addBaseOption, addProbeTimeoutOption, addStateOption } from '../connection-options.js';
import { formatStatusPrometheus } from '../format-status-prometheus.js';
import { formatStatusTable } from '../format-status-table.js';
import { listVolumeStatus } from '../list-volume-status.js';
import { printable, printableJson } from '../printable.js';

type StatusFormat = 'table' | 'json' | 'prometheus';

interface StatusOptions {
  base?: string;
  state?: string;
  json?: boolean;
  format?: StatusFormat;
  probeTimeoutMs?: number;
}

/** How long a check runs before a terminal is told what it waits for. */
const WAITING_AFTER_MS = 1000;
/** The driver's default `probeTimeoutMs`, for the message. */
const DEFAULT_PROBE_TIMEOUT_MS = 5000;

/**
 * `status`: every mount under the base with its export, health and attachments, and the
 * attachments whose mount is gone; a table, JSON (`--json`) or Prometheus gauges. Changes
 * nothing. Exits 0 only when nothing has a problem (see `cli-exit.ts`).
 */
export function registerStatusCommand(program: Command, deps: RunCliOptions): void {
  const command = program.command('status').description('show the mounts under the base, their health and attachments');
  addBaseOption(command);
  addStateOption(command);
  command.option('--json', 'print a JSON array instead of a table (the same as --format json)');
  command.addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'prometheus']));
  addProbeTimeoutOption(command);
  command.addHelpText(
    'after',
    [
      '',
      'Exit status:',
      '  0  every own mount is healthy and every recorded attachment\'s share is mounted',
      '  1  the check failed (one line on stderr)',
      '  2  usage error',
      `  ${EXIT_DEGRADED}  degraded: a mount is stale, unresponsive, foreign, cannot be checked, not`,
      '     mounted though attachments are recorded, or orphaned (mounted, no attachment)',
      `  ${EXIT_NOT_FOUND}  the base, or the folder of the state file, does not exist`,
      'With --format prometheus the exit status is 0 whenever the metrics were written',
      '(libvirt_volume_degraded says whether anything is wrong), so a collector job keeps',
      'publishing when something is wrong.',
    ].join('\n'),
  );
  command.action(async () => {
    // One contained look at the base and its mounts (see `snapshot-probe.ts`); a probe child
    // starts only for what it did not answer. The driver is loaded when the command runs, so
    // that `--help` and `config` do not pay for it.
    const options = command.opts<StatusOptions>();
    if (options.json === true && options.format !== undefined && options.format !== 'json') {
      throw new CliUsageError(`--json and --format ${options.format} contradict each other`);
    }
    const format: StatusFormat = options.json === true ? 'json' : (options.format ?? 'table');
    const ownProbe = deps.probe === undefined ? new (await import('../snapshot-probe.js')).SnapshotProbe() : undefined;
    // Taken while the driver loads.
    const givenBase = resolveMountBase(options, deps.env);
    const snapshot = ownProbe?.snapshot(givenBase, resolveStatePath(options, deps.env, givenBase));
    const { openDriver } = await import('../cli-context.js');
    const { driver, probe } = openDriver(ownProbe === undefined ? deps : { ...deps, probe: ownProbe }, options);
    const base = driver.mountPointBase;
    const statePath = resolveStatePath(options, deps.env, base);
    await snapshot;
    // Checked, not assumed: a mistyped base would otherwise look like a host with no mounts.
    await checkHostPaths(probe, base, statePath);
    const waiting = deps.stderr.isTTY === true;
    const rows = await listVolumeStatus(driver, probe, {
      waitingAfterMs: WAITING_AFTER_MS,
      ...(waiting ? { onWaiting: (mountPath: string) => deps.stderr.write(`waiting for ${printable(mountPath)} to answer stat (gives up after ${options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS} ms)\n`) } : {}),
    });
    if (format === 'prometheus') {
      deps.stdout.write(formatStatusPrometheus(rows, base));
      return;
    }
    if (format === 'json') {
      deps.stdout.write(`${printableJson(rows)}\n`);
    } else if (rows.length === 0) {
      deps.stdout.write(`no mounts or attachments under ${printable(base)}\n`);
    } else {
      deps.stdout.write(formatStatusTable(rows));
    }
    if (rows.some((row) => row.problems.length > 0)) throw new CliExit(EXIT_DEGRADED);
  });
}
