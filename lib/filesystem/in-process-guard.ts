import { performance } from 'node:perf_hooks';
import type { ProbeOptions } from './file-system-probe.js';
import { probeError } from './probe-child-protocol.js';

/** A call that may hang, shared by everyone who asks the same while it runs. */
interface Pending<T> {
  startedAt: number;
  operation: Promise<T>;
}

/**
 * Timeouts for calls made in this process (`NodeFileSystemProbe` with `contained: false`).
 *
 * A call stuck on a hung FUSE mount holds one of libuv's I/O threads until the client answers
 * or the connection is aborted; a timeout only stops the waiting. So while one call on a path
 * is unanswered, further calls on that path wait for that same call instead of taking another
 * thread: a hung mount holds at most one thread per operation.
 */
export class InProcessGuard {
  /** Calls still waiting for the kernel, by operation and path. */
  readonly #pending = new Map<string, Pending<unknown>>();

  /**
   * Runs `call`, giving up after `options.timeoutMs`.
   *
   * @throws Rejects with the call's error, or `ETIMEDOUT`.
   */
  async run<T>(key: string, path: string, options: ProbeOptions, call: () => Promise<T>): Promise<T> {
    const { timeoutMs } = options;
    if (timeoutMs === undefined) return call();
    // A second caller shares the call in flight rather than taking another thread, and gets
    // what is left of that call's time: a call already past it is hung, and says so at once.
    let pending = options.fresh === true ? undefined : (this.#pending.get(key) as Pending<T> | undefined);
    if (pending === undefined) {
      const own: Pending<T> = { startedAt: performance.now(), operation: call() };
      own.operation
        .finally(() => {
          if (this.#pending.get(key) === own) this.#pending.delete(key);
        })
        // The call may outlive every caller's timeout; it settles when the client answers or the
        // connection is aborted, and nobody is left to see a rejection then.
        .catch(() => undefined);
      this.#pending.set(key, own);
      pending = own;
    }
    const timeout = (): Error => probeError('ETIMEDOUT', `no answer within ${timeoutMs} ms, ${key.slice(0, key.indexOf(':'))} '${path}'`, path);
    const left = pending.startedAt + timeoutMs - performance.now();
    if (left <= 0) throw timeout();
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { reject(timeout()); }, left);
    });
    try {
      return await Promise.race([pending.operation, expiry]);
    } finally {
      clearTimeout(timer);
    }
  }
}
