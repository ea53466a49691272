/**
 * The options of `ProbeChildPool`, apart from the pool so that each file stays small.
 *
 * @module
 */

/** Options for `ProbeChildPool`. */
export interface ProbeChildPoolOptions {
  /**
   * Most children at once. Further requests wait in a queue, and their time starts only when a
   * child takes them: a full pool is never mistaken for a hung mount.
   * @default 16
   */
  maxChildren?: number;
  /**
   * A child beyond the first that has been idle this long exits; the first stays, so the warm
   * path never waits for a child to start.
   * @default 10000
   */
  idleMs?: number;
  /**
   * A child that is not ready this long after its start is killed, and the requests waiting
   * for it fail.
   * @default 10000
   */
  startTimeoutMs?: number;
  /**
   * With a child already running (or starting), another one starts only for a request that has
   * waited this long while no child started or answered: a healthy mount answers within a
   * millisecond, so a burst of requests (`status` over many mounts) is served by the running
   * child instead of paying a Node start for each, while a request stuck behind a hung mount
   * still gets a child of its own.
   * @default 25
   */
  spawnAfterMs?: number;
  /**
   * The Node.js binary the children run.
   * @default process.execPath
   */
  execPath?: string;
}
