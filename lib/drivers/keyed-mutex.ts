import { Mutex } from 'async-mutex';

/**
 * One mutex per key (here: per mount point), created on first use and dropped when nobody holds
 * or waits for it, so the table is empty when the driver is idle. Two keys never wait for each
 * other; Nova's single driver-wide lock made every export wait for every other.
 */
export class KeyedMutex {
  readonly #locks = new Map<string, { mutex: Mutex; users: number }>();

  /** Runs `task` while holding the lock for `key`. */
  async runExclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    let lock = this.#locks.get(key);
    if (lock === undefined) {
      lock = { mutex: new Mutex(), users: 0 };
      this.#locks.set(key, lock);
    }
    lock.users += 1;
    try {
      return await lock.mutex.runExclusive(task);
    } finally {
      lock.users -= 1;
      if (lock.users === 0) this.#locks.delete(key);
    }
  }

  /** Keys with a holder or a waiter. */
  get size(): number {
    return this.#locks.size;
  }
}
