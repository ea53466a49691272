import type { Command } from 'commander';
import type { ReconcileReport } from '../../drivers/reconcile.js';
import type { RunCliOptions } from '../cli-context.js';
import { checkHostPaths } from '../check-host-paths.js';
import { CliExit, EXIT_DEGRADED, EXIT_NOT_FOUND } from '../cli-exit.js';
import { addBaseOption, addCommandTimeoutOption, addProbeTimeoutOption, addStateOption } from '../connection-options.js';
import { printable, printableJson } from '../printable.js';

interface ReconcileCommandOptions {
  base?: string;
  state?: string;
  dryRun?: boolean;
  json?: boolean;
  timeoutMs?: number;
  probeTimeoutMs?: number;
}

/** What an operator must look at: everything in the report but the unmounts. */
export function needsOperator(report: ReconcileReport): boolean {
  return report.kept.length + report.missing.length + report.stacked.length + report.foreign.length > 0;
}

/** One line per finding, host text escaped; `nothing to reconcile` when there is none. */
export function formatReconcileReport(report: ReconcileReport, base: string, dryRun: boolean): string {
  const lines = [
    ...report.unmounted.map((path) => `${dryRun ? 'would unmount' : 'unmounted'} ${printable(path)}: no attachment needs it`),
    ...report.kept.map((path) => `kept ${printable(path)}: no attachment needs it, but it is busy or hung with files open`),
    ...report.missing.map(({ mountPath, attachments }) => `missing ${printable(mountPath)}: not mounted, though attachments are recorded (${attachments.map(printable).join(', ')})`),
    ...report.stacked.map((path) => `stacked ${printable(path)}: more than one mount of ours on top of each other`),
    ...report.flattened.map((path) => `${dryRun ? 'would flatten' : 'flattened'} ${printable(path)}: in use; stacked mounts of ours were unmounted from the top until one remained`),
    ...report.foreign.map((path) => `foreign ${printable(path)}: another file system; left alone`),
  ];
  if (lines.length === 0) lines.push(`nothing to reconcile under ${printable(base)}`);
  return lines.map((line) => `${line}\n`).join('');
}

/**
 * `reconcile`: makes the mount table and the attachment store agree under the base
 * (`driver.reconcile()`), the step an agent runs at start after `restoreAttachments`. Own
 * mounts no attachment needs are unmounted; the rest is reported. Exit status 0 when nothing
 * is left for an operator, {@link EXIT_DEGRADED} when something is (kept, missing, stacked,
 * foreign), {@link EXIT_NOT_FOUND} when the base or the state file's folder does not exist.
 */
export function registerReconcileCommand(program: Command, deps: RunCliOptions): void {
  const command = program.command('reconcile').description('unmount own mounts no attachment needs; report what an operator must look at');
  addBaseOption(command);
  addStateOption(command);
  command.option('--dry-run', 'report what would be unmounted and change nothing');
  command.option('--json', 'print the report as JSON');
  addCommandTimeoutOption(command);
  addProbeTimeoutOption(command);
  command.addHelpText(
    'after',
    [
      '',
      'An agent runs it at start, after restoreAttachments, and after a crash.',
      '',
      'Exit status:',
      '  0  nothing was left for an operator (whatever was unmounted)',
      '  1  failed (one line on stderr)',
      '  2  usage error',
      `  ${EXIT_DEGRADED}  something is left for an operator: a mount kept (busy, or hung with files`,
      '     open), attachments whose share is missing, stacked mounts, a foreign file system',
      `  ${EXIT_NOT_FOUND}  the base, or the folder of the state file, does not exist`,
    ].join('\n'),
  );
  command.action(async () => {
    const { openDriver, resolveStatePath } = await import('../cli-context.js');
    const options = command.opts<ReconcileCommandOptions>();
    const { driver, probe } = openDriver(deps, options);
    const base = driver.mountPointBase;
    await checkHostPaths(probe, base, resolveStatePath(options, deps.env, base));
    const dryRun = options.dryRun === true;
    const report = await driver.reconcile({ dryRun });
    deps.stdout.write(options.json === true ? `${printableJson({ dryRun, ...report })}\n` : formatReconcileReport(report, base, dryRun));
    if (needsOperator(report)) throw new CliExit(EXIT_DEGRADED);
  });
}
