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
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs commands. Resolves when the exit code is in `okExitCodes`; otherwise rejects with
 * `CommandFailedError`. A timeout rejects with `CommandTimeoutError`, an aborted signal with an
 * error named `AbortError`, a missing program with `CommandNotFoundError`.
 */
export interface CommandRunner {
  run(command: Command, options?: RunOptions): Promise<CommandResult>;
}
