/**
 * Runs the CLI in a child process and exits with the status it reports, killing it if it cannot
 * exit by itself.
 *
 * Why: a `stat` of a hung FUSE mount (a client stopped or wedged) blocks one of libuv's
 * threadpool threads until the client answers. The library's probe gives up after
 * `probeTimeoutMs` and `status` reports the mount as unresponsive, but the thread stays blocked,
 * and Node cannot end a process whose threadpool thread never returns: both a natural exit and
 * `process.exit()` join the pool first (`uv_library_shutdown`), and even SIGTERM is caught by
 * Node. So the process that looked at a hung mount would never exit, exactly when an operator
 * runs `status` to find the hung mount. The child does the work and reports its exit status over
 * IPC once its output is flushed; the parent, whose own threadpool never touched a mount, then
 * kills it with SIGKILL (which a thread waiting on FUSE does obey) if it has not exited by
 * itself within a moment.
 *
 * @module
 */
import type { StdioOptions } from 'node:child_process';
import { constants } from 'node:os';

/** Set in the child's environment (and removed again there) so it knows to do the work. */
const CHILD_ENV = 'LIBVIRT_VOLUME_CLI_CHILD';
const REPORT = 'libvirt-volume-exit-code';

/** What the child sends once it is done. */
interface ExitReport {
  type: typeof REPORT;
  exitCode: number;
}

function isExitReport(message: unknown): message is ExitReport {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as Partial<ExitReport>).type === REPORT &&
    Number.isInteger((message as Partial<ExitReport>).exitCode)
  );
}

/** Signals the parent passes on to the child instead of dying of them (the child decides). */
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Options of {@link superviseChild}. */
export interface SuperviseOptions {
  /**
   * The child's environment, without the marker (added here).
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /**
   * How long the child may take to exit after it reported its status, in milliseconds.
   * @default 500
   */
  graceMs?: number;
  /**
   * The child's stdio; the IPC channel is added.
   * @default the parent's stdin, stdout and stderr
   */
  stdio?: readonly ['inherit' | 'ignore' | 'pipe', 'inherit' | 'ignore' | 'pipe', 'inherit' | 'ignore' | 'pipe'];
}

/**
 * Whether this process is the child {@link superviseChild} started. Removes the marker from the
 * environment, so programs the child runs (mount.quobyte, umount) do not see it.
 */
export function isSupervisedChild(): boolean {
  const marked = process.env[CHILD_ENV] === '1' && typeof process.send === 'function';
  Reflect.deleteProperty(process.env, CHILD_ENV);
  return marked;
}

/** Waits until everything written to the stream so far has been handed to the system. */
async function flush(stream: NodeJS.WritableStream): Promise<void> {
  await new Promise<void>((resolve) => {
    stream.write('', () => {
      resolve();
    });
  });
}

/**
 * In the child: flushes stdout and stderr, reports the exit status to the parent and lets go of
 * the IPC channel, so the process exits as soon as nothing else holds it (and is killed by the
 * parent when something does).
 */
export async function reportExitCode(exitCode: number): Promise<void> {
  process.exitCode = exitCode;
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  const send = process.send?.bind(process);
  if (send === undefined) return;
  await new Promise<void>((resolve) => {
    send({ type: REPORT, exitCode } satisfies ExitReport, undefined, {}, () => {
      resolve();
    });
  });
  process.disconnect();
}

/**
 * In the parent: runs `modulePath` with `argv` in a child Node process (same Node options, so
 * tsx carries over), passes SIGINT, SIGTERM and SIGHUP on to it, and resolves to its exit
 * status: the one it reported; else the one it exited with; else 128 + the signal that ended
 * it, as a shell reports it. A child that reported but does not exit within `graceMs` is killed.
 */
export async function superviseChild(modulePath: string, argv: readonly string[], options: SuperviseOptions = {}): Promise<number> {
  const graceMs = options.graceMs ?? 500;
  const stdio: StdioOptions = [...(options.stdio ?? ['inherit', 'inherit', 'inherit']), 'ipc'];
  // Loaded here: `status`, `config` and `--help` never fork, and it costs a fifth of their start.
  const { fork } = await import('node:child_process');
  const child = fork(modulePath, [...argv], { stdio, env: { ...(options.env ?? process.env), [CHILD_ENV]: '1' } });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  let reported: number | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('message', (message) => {
        if (!isExitReport(message) || reported !== undefined) return;
        reported = message.exitCode;
        killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (reported !== undefined) resolve(reported);
        else if (code !== null) resolve(code);
        else resolve(128 + (signal === null ? 0 : constants.signals[signal]));
      });
    });
  } finally {
    clearTimeout(killTimer);
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
  }
}
