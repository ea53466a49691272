import { abortError, throwIfAborted } from '../commands/abort-error.js';
import { KeyedMutex } from '../drivers/keyed-mutex.js';
import type { MountLock, MountLockOptions } from './mount-lock.js';

/**
 * A {@link MountLock} that holds only inside this process: enough when one process uses the mount
 * base. Waiters queue in order; none polls.
 */
export class MemoryMountLock implements MountLock {
  readonly #mutex = new KeyedMutex();

  /**
   * @throws `AbortError` when `options.signal` aborts before the lock is taken.
   */
  async withLock<T>(key: string, fn: () => Promise<T>, options: MountLockOptions = {}): Promise<T> {
    const { signal } = options;
    throwIfAborted(signal);
    if (signal === undefined) return this.#mutex.runExclusive(key, fn);
    return new Promise<T>((resolve, reject) => {
      let gaveUp = false;
      const onAbort = (): void => {
        gaveUp = true;
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // A waiter that gave up still passes through the queue, holding the lock for no time.
      void this.#mutex.runExclusive(key, async () => {
        signal.removeEventListener('abort', onAbort);
        if (gaveUp) return;
        try {
          resolve(await fn());
        } catch (error) {
          // Whatever fn threw, passed on as it is.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(error);
        }
      });
    });
  }

  /** Keys held or waited for in this process. */
  get size(): number {
    return this.#mutex.size;
  }
}
