/**
 * How the library runs programs. The default is {@link ExecaCommandRunner}; agents that need
 * `sudo`, a remote host or a recorder supply their own.
 *
 * @module
 */

/** A program and its arguments. Always run as argv, never through a shell. */
export interface Command {
  /** The program, looked up on `PATH` unless it contains a `/`. */
  file: string;
  /** Arguments, passed as they are. */
  args: readonly string[];
}

/** Per-call options for {@link CommandRunner.run}. */
export interface RunOptions {
  /**
   * Exit codes that count as success.
   * @default [0]
   */
  okExitCodes?: readonly number[];
  /** Kill the process and reject with `CommandTimeoutError` after this many milliseconds. */
  timeoutMs?: number;
  /** Kill the process and reject with an `AbortError` when this signal aborts. */
  signal?: AbortSignal;
  /** Environment variables for this command, added to the runner's own. */
  env?: Readonly<Record<string, string>>;
}

/** What a finished command produced. */
export interface CommandResult {
  /** The exit status, one of `okExitCodes`. */
  exitCode: number;
  /** Everything the program wrote to standard output, as text. */
  stdout: string;
  /** Everything the program wrote to standard error, as text. */
  stderr: string;
}

/**
 * Runs commands. Resolves when the exit code is in `okExitCodes`; otherwise rejects with
 * `CommandFailedError`. A timeout rejects with `CommandTimeoutError`, an aborted signal with an
 * error named `AbortError`, a missing program with `CommandNotFoundError`.
 */
export interface CommandRunner {
  /**
   * Runs `command` as argv (never through a shell) and resolves with what it produced.
   * @throws `CommandFailedError` exit code outside `okExitCodes`, or killed by a signal
   * @throws `CommandTimeoutError` still running after `timeoutMs` (it was killed)
   * @throws `CommandNotFoundError` the program is not installed
   * @throws `AbortError` (by name) when `signal` aborted (it was killed)
   */
  run(command: Command, options?: RunOptions): Promise<CommandResult>;
}
