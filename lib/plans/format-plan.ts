/**
 * A plan as `--dry-run` prints it: one line per step.
 *
 * @module
 */
import type { Command } from '../commands/command-runner.js';
import type { PlanStep } from './plan-step.js';

/** Characters that need no quoting in a POSIX shell word. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A word as a POSIX shell would read it back, so a printed command can be pasted. */
function shellQuote(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replaceAll("'", String.raw`'\''`)}'`;
}

/** The argv as one line, quoted where needed. */
export function formatCommand(command: Command): string {
  return [command.file, ...command.args].map(shellQuote).join(' ');
}

function formatStep(step: PlanStep): string | undefined {
  switch (step.kind) {
    case 'run':
      return `would run: ${formatCommand(step.command)}${step.fallback === undefined ? '' : ` (if it fails: ${formatCommand(step.fallback)})`}`;
    case 'abort-fuse':
      return `would abort the FUSE connection ${step.minor} of ${step.mountPath} (mounting fusectl first where it is missing)`;
    case 'create-directory':
      return step.existing === true ? `would check directory (no link, ours): ${step.path}` : `would create directory: ${step.path}`;
    case 'remove-directory':
      return `would remove directory: ${step.path}`;
    case 'verify-mount':
    case 'check-image':
      // Checks change nothing on the host; a dry run lists what would change.
      return undefined;
    case 'record-attachment':
      return `would record attachment: ${step.id} on ${step.mountPath}`;
    case 'remove-attachment':
      return `would remove attachment: ${step.id} from ${step.mountPath}`;
    case 'refuse':
      return `would refuse (${step.error.code}): ${step.error.message}`;
    case 'nothing-to-do':
      return `nothing to run: ${step.why}`;
    case 'look-again':
      return `would look again: ${step.why}`;
  }
}

/**
 * One line per step that would change the host or explains why nothing does: `would run: ...`,
 * `would create directory: ...`, `nothing to run: ...`. Checks (`verify-mount`, `check-image`)
 * are not printed.
 */
export function formatPlan(steps: readonly PlanStep[]): string {
  return steps
    .map(formatStep)
    .filter((line) => line !== undefined)
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * The plan as `--dry-run` prints it; a plan that refuses throws the error the real operation
 * would throw, after nothing was printed.
 * @throws the refusal's error
 */
export function formatPlanOrThrow(steps: readonly PlanStep[]): string {
  const refusal = steps.find((step) => step.kind === 'refuse');
  if (refusal !== undefined) throw refusal.error;
  return formatPlan(steps);
}
