/**
 * The `libvirt-volume` command line, as a function: arguments and streams in, exit status out.
 * `main.ts` hands it `process.argv`, `process.stdout` and the rest; tests hand it collectors, a
 * stub probe and a stub runner.
 *
 * @module
 */
import { Command, CommanderError } from 'commander';
import type { CliOutput, RunCliOptions } from './cli-context.js';
import { DEFAULT_MOUNT_BASE, DEFAULT_STATE_FILE_NAME, MOUNT_BASE_ENV, STATE_ENV } from './cli-defaults.js';
import { CliExit, EXIT_BUSY, EXIT_DEGRADED, EXIT_NOT_FOUND, EXIT_UNRESPONSIVE } from './cli-exit.js';
import { isCliUsageError } from './cli-usage-error.js';
import { registerConfigCommand } from './commands/config.js';
import { registerConnectCommand } from './commands/connect.js';
import { registerDisconnectCommand } from './commands/disconnect.js';
import { registerReconcileCommand } from './commands/reconcile.js';
import { registerRepairCommand } from './commands/repair.js';
import { registerStatusCommand } from './commands/status.js';
import { readPackageVersion } from './package-version.js';

export type { CliOutput, RunCliOptions } from './cli-context.js';

/** The program's name, which starts every error line. */
export const PROGRAM_NAME = 'libvirt-volume';

/** Exit status of a failed operation. */
export const EXIT_FAILURE = 1;
/** Exit status of a usage error (missing option, unknown command, bad option value). */
export const EXIT_USAGE = 2;

/** Help is wrapped to the terminal, or to 80 columns when the stream is not one. */
function helpWidth(stream: CliOutput): number {
  return typeof stream.columns === 'number' && stream.columns > 0 ? stream.columns : 80;
}

function buildProgram(deps: RunCliOptions): Command {
  const program = new Command(PROGRAM_NAME);
  // Settings first: the subcommands added below inherit them.
  program
    .description('Look at and repair the Quobyte volume mounts of libvirt guests on this host.')
    .version(readPackageVersion())
    .exitOverride()
    .configureOutput({
      writeOut: (text) => deps.stdout.write(text),
      // Commander writes errors and error-help here; the one-line report replaces both.
      writeErr: () => undefined,
      outputError: () => undefined,
      getOutHelpWidth: () => helpWidth(deps.stdout),
      getErrHelpWidth: () => helpWidth(deps.stderr),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        `  ${MOUNT_BASE_ENV}  mount point base, when --base is not given`,
        `                             (default: ${DEFAULT_MOUNT_BASE})`,
        `  ${STATE_ENV}       attachment store file, when --state is not given`,
        `                             (default: <base>/${DEFAULT_STATE_FILE_NAME})`,
        '',
        `A failure is one line on stderr, "${PROGRAM_NAME}: <CODE>: <message>", and exit`,
        `status ${EXIT_FAILURE}; a usage error has code ERR_USAGE and exit status ${EXIT_USAGE}.`,
        `Exit status ${EXIT_DEGRADED}: status found a problem, or reconcile left something for an`,
        `operator; ${EXIT_NOT_FOUND}: status or reconcile found no base (or no folder for the state`,
        `file); ${EXIT_BUSY}: disconnect left a busy share mounted; ${EXIT_UNRESPONSIVE}: connect or repair left a`,
        'hung mount in use alone (repair --force replaces it).',
        '',
        'An agent runs, at start: restoreAttachments (from the guests libvirt has defined),',
        `then reconcile (${PROGRAM_NAME} reconcile, or driver.reconcile()).`,
      ].join('\n'),
    );
  registerConfigCommand(program, deps);
  registerConnectCommand(program, deps);
  registerDisconnectCommand(program, deps);
  registerStatusCommand(program, deps);
  registerReconcileCommand(program, deps);
  registerRepairCommand(program, deps);
  return program;
}

/** The first line of a message, without commander's `error: ` prefix. */
function firstLine(message: string): string {
  return (message.split('\n', 1)[0] ?? '').replace(/^error: /, '').trim();
}

/** What is printed for a failure, and the exit status. */
function describeFailure(error: unknown): { code: string; message: string; exitCode: number } {
  if (error instanceof CommanderError) {
    // Commander's implicit help when no command is given reports "(outputHelp)".
    const message = error.code === 'commander.help' ? `missing command (see '${PROGRAM_NAME} --help')` : firstLine(error.message);
    return { code: 'ERR_USAGE', message, exitCode: EXIT_USAGE };
  }
  if (isCliUsageError(error)) {
    return { code: error.code, message: firstLine(error.message), exitCode: EXIT_USAGE };
  }
  if (error instanceof Error) {
    const code: unknown = (error as { code?: unknown }).code;
    // An error may carry its own exit status (CliNotFoundError); else it is a plain failure.
    const own: unknown = (error as { exitCode?: unknown }).exitCode;
    // A hung mount in use left alone is not a failure to retry blindly: it needs a decision.
    const fallback = code === 'ERR_VOLUME_UNRESPONSIVE' ? EXIT_UNRESPONSIVE : EXIT_FAILURE;
    const exitCode = typeof own === 'number' && Number.isInteger(own) && own > 0 ? own : fallback;
    if (typeof code === 'string' && code !== '') return { code, message: firstLine(error.message), exitCode };
    return { code: 'ERR_UNEXPECTED', message: firstLine(`${error.name}: ${error.message}`), exitCode: EXIT_FAILURE };
  }
  return { code: 'ERR_UNEXPECTED', message: firstLine(String(error)), exitCode: EXIT_FAILURE };
}

/**
 * Runs `libvirt-volume` with `argv` (the arguments after the program name) and resolves to the
 * exit status: `0` on success and for `--help` and `--version`; `1` when the operation failed;
 * `2` for a usage error. A failure is written to `stderr` as exactly one line,
 * `libvirt-volume: <CODE>: <first line of the message>`, where the code is the library error's
 * stable `code` (`ERR_INVALID_CONNECTION_INFO`, ...), an errno name, or `ERR_USAGE`. Never
 * rejects.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
 * ```
 */
export async function runCli(argv: readonly string[], deps: RunCliOptions): Promise<number> {
  try {
    await buildProgram(deps).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    // --help, --version and `help` end through exitOverride too, with status 0.
    if (error instanceof CommanderError && error.exitCode === 0) return 0;
    // A command that wrote its output and ends with a status of its own (degraded, busy).
    if (error instanceof CliExit) return error.exitCode;
    const { code, message, exitCode } = describeFailure(error);
    deps.stderr.write(`${PROGRAM_NAME}: ${code}: ${message}\n`);
    return exitCode;
  }
}
