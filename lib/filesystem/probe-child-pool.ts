import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { ProbeChildPoolOptions } from './probe-child-pool-options.js';
import { LineDecoder, encodeRequest, parseMessage, requestPath, probeError, toErrnoException, type ProbeRequest, type ProbeRequestBody } from './probe-child-protocol.js';
import { PROBE_CHILD_SCRIPT } from './probe-child-script.js';

export type { ProbeChildPoolOptions } from './probe-child-pool-options.js';

interface Job {
  request: ProbeRequest;
  timeoutMs: number | undefined;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  /** A job whose child died under it (not by our hand) is tried once more on a new child. */
  retried: boolean;
  /** When it was queued (`performance.now()`). */
  queuedAt: number;
}

interface Child {
  process: ChildProcessWithoutNullStreams;
  pid: number | undefined;
  ready: boolean;
  job: Job | undefined;
  /** The job's deadline, or the start deadline before the child is ready. */
  timer: NodeJS.Timeout | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  decoder: LineDecoder;
  stderr: string;
}

/**
 * `node:child_process`, loaded at the first spawn: it pulls in `net` and the streams, a fifth of
 * the package's import time, and a process that never looks at a mount never needs it.
 */
let childProcess: typeof import('node:child_process') | undefined;

/** The child's stdio sockets and the process handle, which keep the event loop alive if ref'd. */
function handles(child: ChildProcessWithoutNullStreams): { ref(): unknown; unref(): unknown }[] {
  // With stdio 'pipe' the streams are sockets, which have ref() and unref().
  return [child, ...([child.stdin, child.stdout, child.stderr] as unknown[] as Socket[])];
}

/**
 * Child processes that make the system calls which may block on a hung mount, so that none of
 * them ever holds a thread of this process. Each child answers one request at a time; a request
 * not answered within its timeout rejects with `ETIMEDOUT` and its child is killed with
 * `SIGKILL` (a replacement starts on demand). Children start lazily; idle ones do not keep the
 * process alive.
 */
export class ProbeChildPool {
  readonly #maxChildren: number;
  readonly #idleMs: number;
  readonly #startTimeoutMs: number;
  readonly #spawnAfterMs: number;
  /** Calls {@link ProbeChildPool.#pump} again when the oldest request will have waited long enough for another child. */
  #spawnTimer: NodeJS.Timeout | undefined;
  readonly #execPath: string;
  readonly #children = new Set<Child>();
  readonly #queue: Job[] = [];
  /** Children killed on a timeout that have not exited yet (a FUSE request the client has read holds them). */
  readonly #killed = new Set<number>();
  #nextId = 0;
  /** When a child last became ready or answered (`performance.now()`). */
  #progressAt = 0;

  /** @throws {TypeError} When an option is out of range. */
  constructor(options: ProbeChildPoolOptions = {}) {
    this.#maxChildren = options.maxChildren ?? 16;
    this.#idleMs = options.idleMs ?? 10_000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.#spawnAfterMs = options.spawnAfterMs ?? 25;
    this.#execPath = options.execPath ?? process.execPath;
    if (!Number.isInteger(this.#maxChildren) || this.#maxChildren < 1) throw new TypeError(`Expected maxChildren to be a positive integer, got ${this.#maxChildren}`);
  }

  /** PIDs of the live children. */
  get pids(): number[] {
    return [...this.#children].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  /** PIDs of children killed on a timeout that have not exited yet. */
  get killedPids(): number[] {
    return [...this.#killed];
  }

  /**
   * Runs one request in a child. Without `timeoutMs` it waits as long as the kernel does (still
   * on no thread of this process).
   *
   * @throws Rejects with the child's error (same `code`), `ETIMEDOUT` when no answer came within
   *   `timeoutMs` of the child taking the request, `ECHILD` when children die before answering,
   *   `ECANCELED` after {@link close}, or the spawn error (`EAGAIN`, `ENOENT`, ...).
   */
  run(body: ProbeRequestBody, timeoutMs?: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ request: { ...body, id: ++this.#nextId }, timeoutMs, resolve, reject, retried: false, queuedAt: performance.now() });
      this.#pump();
    });
  }

  /** Starts the first child now, when none runs, so that the first request does not wait for its start. */
  warmUp(): void {
    if (this.#children.size === 0) this.#spawn();
  }

  /** Kills every child and fails the waiting requests with `ECANCELED`. */
  close(): void {
    clearTimeout(this.#spawnTimer);
    for (const job of this.#queue.splice(0)) job.reject(probeError('ECANCELED', `probe closed before ${job.request.op} '${requestPath(job.request)}' ran`, requestPath(job.request)));
    for (const child of [...this.#children]) {
      const job = child.job;
      this.#retire(child, true);
      job?.reject(probeError('ECANCELED', `probe closed during ${job.request.op} '${requestPath(job.request)}'`, requestPath(job.request)));
    }
  }

  #pump(): void {
    for (const child of this.#children) {
      const job = child.ready && child.job === undefined ? this.#queue.shift() : undefined;
      if (job !== undefined) this.#dispatch(child, job);
    }
    // One child starts at a time: Node's spawn blocks this thread until the child has called
    // exec (measured 100-150 ms on a loaded host), so a burst of starts would stall the event loop.
    const starting = [...this.#children].filter((child) => !child.ready).length;
    const oldest = this.#queue[0];
    if (oldest === undefined || starting > 0 || this.#children.size >= this.#maxChildren) return;
    // Measured from the last time a child started or answered: requests queued behind a child
    // that is still answering (or just became ready) need no second child; one that is stuck does.
    const waitLeft = this.#children.size === 0 ? 0 : Math.max(oldest.queuedAt, this.#progressAt) + this.#spawnAfterMs - performance.now();
    clearTimeout(this.#spawnTimer);
    this.#spawnTimer = undefined;
    if (waitLeft <= 0) this.#spawn();
    else this.#spawnTimer = setTimeout(() => { this.#pump(); }, waitLeft);
  }

  #dispatch(child: Child, job: Job): void {
    clearTimeout(child.idleTimer);
    child.job = job;
    child.process.stdin.write(encodeRequest(job.request));
    // The clock starts now, when the child takes the request, not when it was queued. The timer
    // keeps the process alive until the answer; a call without one needs the child's handles.
    if (job.timeoutMs !== undefined) child.timer = setTimeout(() => { this.#expire(child); }, job.timeoutMs);
    else for (const handle of handles(child.process)) handle.ref();
  }

  #spawn(): void {
    const env = { ...process.env };
    // A loader or debugger meant for the parent has no business in the child.
    delete env.NODE_OPTIONS;
    childProcess ??= createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
    const proc = childProcess.spawn(this.#execPath, ['--max-old-space-size=32', '-e', PROBE_CHILD_SCRIPT], { cwd: '/', env, stdio: ['pipe', 'pipe', 'pipe'] });
    const child: Child = { process: proc, pid: proc.pid, ready: false, job: undefined, timer: undefined, idleTimer: undefined, decoder: new LineDecoder(), stderr: '' };
    this.#children.add(child);
    child.timer = setTimeout(() => { this.#failStart(child, probeError('ECHILD', `probe child not ready within ${this.#startTimeoutMs} ms`)); }, this.#startTimeoutMs);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => { this.#receive(child, chunk); });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => { child.stderr = (child.stderr + chunk).slice(-2000); });
    // A write to a child that just died fails with EPIPE; its exit handler settles the job.
    proc.stdin.on('error', () => undefined);
    proc.on('error', (error) => { this.#failStart(child, error); });
    proc.on('exit', (code, signal) => { this.#exited(child, code, signal); });
  }

  #receive(child: Child, chunk: string): void {
    for (const line of child.decoder.push(chunk)) {
      if (!this.#children.has(child)) return;
      let message;
      try {
        message = parseMessage(line);
      } catch {
        // Not our protocol: the child is broken. Replace it; its job is tried once more.
        this.#lost(child);
        return;
      }
      this.#progressAt = performance.now();
      if (message.kind === 'ready') {
        clearTimeout(child.timer);
        child.ready = true;
        child.pid = message.pid;
        this.#idle(child);
        continue;
      }
      const job = child.job;
      if (job?.request.id !== message.id) continue;
      clearTimeout(child.timer);
      child.job = undefined;
      if (message.kind === 'ok') job.resolve(message.value);
      else job.reject(toErrnoException(message.error));
      this.#idle(child, job.timeoutMs === undefined);
    }
    this.#pump();
  }

  #idle(child: Child, wasUntimed = true): void {
    if (wasUntimed) for (const handle of handles(child.process)) handle.unref();
    child.idleTimer = setTimeout(() => {
      // Keep one warm child.
      if (child.job === undefined && this.#children.size > 1) this.#retire(child, false);
    }, this.#idleMs);
    child.idleTimer.unref();
  }

  #expire(child: Child): void {
    const job = child.job;
    if (job === undefined) return;
    child.job = undefined;
    this.#retire(child, true);
    job.reject(probeError('ETIMEDOUT', `no answer within ${job.timeoutMs} ms, ${job.request.op} '${requestPath(job.request)}'`, requestPath(job.request)));
    this.#pump();
  }

  /** Takes a child out of the pool: killed (stuck or broken) or told to exit (idle). */
  #retire(child: Child, kill: boolean): void {
    if (!this.#children.delete(child)) return;
    clearTimeout(child.timer);
    clearTimeout(child.idleTimer);
    if (kill) {
      if (child.pid !== undefined && child.process.exitCode === null && child.process.signalCode === null) this.#killed.add(child.pid);
      child.process.kill('SIGKILL');
    } else {
      child.process.stdin.end();
    }
    // A killed child can stay until the FUSE client answers: it must not keep this process alive.
    for (const handle of handles(child.process)) handle.unref();
  }

  /** A child died or broke under a job, not by our hand. */
  #lost(child: Child): void {
    const job = child.job;
    const wasReady = child.ready;
    this.#retire(child, true);
    if (!wasReady) {
      this.#failStart(child, probeError('ECHILD', `probe child exited before it was ready${child.stderr === '' ? '' : `: ${child.stderr.trim()}`}`));
      return;
    }
    if (job !== undefined) {
      if (job.retried) {
        job.reject(probeError('ECHILD', `probe child died during ${job.request.op} '${requestPath(job.request)}'`, requestPath(job.request)));
      } else {
        job.retried = true;
        this.#queue.unshift(job);
      }
    }
    this.#pump();
  }

  /** A child could not start: the requests waiting for one fail rather than spawn forever. */
  #failStart(child: Child, error: Error): void {
    this.#retire(child, true);
    const starting = [...this.#children].some((other) => !other.ready);
    if (starting) return;
    for (const job of this.#queue.splice(0)) job.reject(error);
  }

  #exited(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    if (child.pid !== undefined) this.#killed.delete(child.pid);
    if (!this.#children.has(child)) return;
    if (!child.ready) child.stderr += ` (exit code ${code ?? 'none'}, signal ${signal ?? 'none'})`;
    this.#lost(child);
  }
}
