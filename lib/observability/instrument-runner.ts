/**
 * A {@link CommandRunner} that reports every command it runs: on the `command` channel and to
 * a logger. Wraps any runner, so a caller's own (sudo, remote, recorder) is observed the same way.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { Command, CommandResult, CommandRunner, RunOptions } from '../commands/command-runner.js';
import { publish, type CommandMessage } from './channels.js';
import { checkLogger, type Logger } from './logger.js';

/** Options of {@link instrumentRunner}. */
export interface InstrumentRunnerOptions {
  /**
   * Where each command is logged: `debug` when it succeeded, `warn` when it did not.
   * @default a logger that drops everything
   */
  logger?: Logger;
  /**
   * The clock, in milliseconds (tests pass a fake one).
   * @default performance.now
   */
  now?: () => number;
}

/** The exit status a failure carries, when the program ran to an exit. */
function exitCodeOf(error: unknown): number | null {
  const { exitCode, signal } = error as { exitCode?: unknown; signal?: unknown };
  return typeof exitCode === 'number' && exitCode >= 0 && signal === undefined ? exitCode : null;
}

/** The failure's stable code; an `AbortError` (which has none of ours) is `ABORT_ERR`, as Node's own. */
function errorCodeOf(error: unknown): string {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  if (name === 'AbortError') return 'ABORT_ERR';
  return typeof code === 'string' && code !== '' ? code : 'ERR_UNEXPECTED';
}

function summary(message: CommandMessage): string {
  const outcome = message.errorCode === null ? `exit ${message.exitCode ?? '?'}` : message.exitCode === null ? message.errorCode : `${message.errorCode}, exit ${message.exitCode}`;
  return `command ${message.argv.join(' ')} (${Math.round(message.durationMs)} ms, ${outcome})`;
}

/**
 * Wraps `runner` so that each `run()` publishes a {@link CommandMessage} on
 * `libvirt-volume-driver:command` and logs one line, then resolves or rejects exactly as
 * `runner` did (same result, same error object).
 *
 * @throws TypeError when `options.logger` lacks one of `debug`, `info`, `warn`, `error`
 * @example
 * ```ts
 * const runner = instrumentRunner(new ExecaCommandRunner(), { logger: console });
 * const driver = new QuobyteVolumeDriver({ mountPointBase: '/var/lib/nova/mnt', runner });
 * ```
 */
export function instrumentRunner(runner: CommandRunner, options: InstrumentRunnerOptions = {}): CommandRunner {
  const logger = checkLogger(options.logger, 'options.logger');
  const now = options.now ?? (() => performance.now());
  return {
    async run(command: Command, runOptions?: RunOptions): Promise<CommandResult> {
      const started = now();
      const report = (exitCode: number | null, errorCode: string | null): CommandMessage => {
        const message: CommandMessage = { argv: [command.file, ...command.args], durationMs: now() - started, exitCode, errorCode };
        publish('command', message);
        return message;
      };
      try {
        const result = await runner.run(command, runOptions);
        const message = report(result.exitCode, null);
        logger.debug(summary(message), { ...message });
        return result;
      } catch (error) {
        const message = report(exitCodeOf(error), errorCodeOf(error));
        logger.warn(summary(message), { ...message });
        throw error;
      }
    },
  };
}
