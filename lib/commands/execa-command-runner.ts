import { abortError, throwIfAborted } from './abort-error.js';
import { CommandFailedError, CommandNotFoundError, CommandTimeoutError } from '../errors.js';
import type { Command, CommandResult, CommandRunner, RunOptions } from './command-runner.js';
import { createDebugLog } from '../debug-log.js';

const debug = createDebugLog('libvirt-volume-driver:command');

/** Options for {@link ExecaCommandRunner}. */
export interface ExecaCommandRunnerOptions {
  /**
   * Prefix put before every command, e.g. `['sudo', '-n']` for an agent that is not root.
   * @default []
   */
  rootHelper?: readonly string[];
  /**
   * Timeout for commands whose {@link RunOptions} give none, in milliseconds. `0` means none.
   * @default 60000
   */
  timeoutMs?: number;
  /**
   * Environment variables added to (and overriding) the inherited environment.
   * @default {}
   */
  env?: Readonly<Record<string, string>>;
}

/** After SIGTERM on timeout or abort, how long a process gets before SIGKILL. */
const FORCE_KILL_AFTER_MS = 2000;

/**
 * The default {@link CommandRunner}, built on execa: argv only (never a shell), stdin closed,
 * output captured as text, the process killed on timeout or abort.
 *
 * @example
 * ```ts
 * const runner = new ExecaCommandRunner({ rootHelper: ['sudo', '-n'], timeoutMs: 30_000 });
 * const { stdout } = await runner.run({ file: 'systemctl', args: ['is-system-running'] }, { okExitCodes: [0, 1] });
 * ```
 */
export class ExecaCommandRunner implements CommandRunner {
  readonly #rootHelper: readonly string[];
  readonly #timeoutMs: number;
  readonly #env: Readonly<Record<string, string>>;
  /**
   * execa, loaded when the first command runs rather than when the package is imported or a
   * driver is made: importing it costs more than the rest of the package together.
   */
  #execa: Promise<typeof import('execa')> | undefined;

  /** @throws TypeError when an option has the wrong type. */
  constructor(options: ExecaCommandRunnerOptions = {}) {
    const { timeoutMs = 60_000, env = {} } = options;
    const rootHelper: unknown = options.rootHelper === undefined ? [] : options.rootHelper;
    if (!Array.isArray(rootHelper) || !rootHelper.every((part) => typeof part === 'string' && part !== '')) {
      throw new TypeError(`Expected rootHelper to be an array of non-empty strings, got ${JSON.stringify(rootHelper)}`);
    }
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) {
      throw new TypeError(`Expected timeoutMs to be a non-negative integer, got ${String(timeoutMs)}`);
    }
    this.#rootHelper = rootHelper.map(String);
    this.#timeoutMs = timeoutMs;
    this.#env = { ...env };
  }

  /**
   * Runs one command.
   * @throws {@link CommandFailedError} exit code outside `okExitCodes`, or killed by a signal
   * @throws {@link CommandTimeoutError} still running after the timeout (it was killed)
   * @throws {@link CommandNotFoundError} the program is not installed
   * @throws `AbortError` (by name) when `options.signal` aborted (it was killed)
   */
  async run(command: Command, options: RunOptions = {}): Promise<CommandResult> {
    const okExitCodes = options.okExitCodes ?? [0];
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const [helper, ...helperArgs] = this.#rootHelper;
    const argv: Command = helper === undefined ? command : { file: helper, args: [...helperArgs, command.file, ...command.args] };
    throwIfAborted(options.signal, formatCommand(argv));
    debug('run %s %o', argv.file, argv.args);

    this.#execa ??= import('execa');
    const { execa } = await this.#execa;
    const result = await execa(argv.file, argv.args, {
      reject: false,
      shell: false,
      stdin: 'ignore',
      env: { ...this.#env, ...options.env },
      ...(timeoutMs > 0 ? { timeout: timeoutMs } : {}),
      ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
      forceKillAfterDelay: FORCE_KILL_AFTER_MS,
      stripFinalNewline: false,
    });
    const { stdout, stderr } = result;

    if (result.isCanceled) {
      throw abortError(options.signal, formatCommand(argv));
    }
    if (result.timedOut) {
      throw new CommandTimeoutError({ command: argv, timeoutMs, stdout, stderr });
    }
    if (result.exitCode === undefined && result.signal === undefined) {
      // Spawning failed; execa keeps the errno in `code` on the error it builds.
      const { cause } = result as { cause?: unknown };
      const errno = (cause as { code?: unknown } | undefined)?.code;
      if (errno === 'ENOENT') throw new CommandNotFoundError(argv, { cause });
      // execvp reports EACCES both for a program it may not run and for a PATH folder it may not
      // search; only the first is a program that is there.
      if (errno === 'EACCES') {
        // Loaded here, on a failure, so a healthy run costs nothing more.
        const { isProgramOnPath } = await import('../filesystem/is-program-on-path.js');
        if (!(await isProgramOnPath(argv.file, this.#pathOf(options)))) throw new CommandNotFoundError(argv, { cause });
      }
      throw new CommandFailedError({ command: argv, exitCode: -1, stdout, stderr }, { cause });
    }
    const exitCode = result.exitCode ?? -1;
    if (result.signal !== undefined || !okExitCodes.includes(exitCode)) {
      throw new CommandFailedError({ command: argv, exitCode, signal: result.signal, stdout, stderr });
    }
    return { exitCode, stdout, stderr };
  }

  /** The `PATH` the child was given: this call's, else the runner's, else the inherited one. */
  #pathOf(options: RunOptions): string {
    return options.env?.PATH ?? this.#env.PATH ?? process.env.PATH ?? '';
  }
}

/** The argv as one line, for messages. */
function formatCommand(command: Command): string {
  return [command.file, ...command.args].join(' ');
}
