/**
 * A lock per mount point, so that observe → mount → record (and remove → unmount) run as one step
 * for a mount point, whichever process on the host runs them.
 *
 * @module
 */

/** Options of {@link MountLock.withLock}. */
export interface MountLockOptions {
  /** Gives up waiting for the lock (rejects with an `AbortError`); no effect once `fn` runs. */
  signal?: AbortSignal;
}

/**
 * Mutual exclusion per key (a mount point). Not re-entrant: taking a key already held by the
 * same caller waits forever.
 */
export interface MountLock {
  /**
   * Runs `fn` while holding the lock for `key`, then releases it (also when `fn` throws).
   *
   * @throws `AbortError` when `options.signal` aborts before the lock is taken.
   * @throws {@link MountLockError} when the lock cannot be taken (its folder cannot be written).
   */
  withLock<T>(key: string, fn: () => Promise<T>, options?: MountLockOptions): Promise<T>;
}
