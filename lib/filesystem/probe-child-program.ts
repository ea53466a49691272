/**
 * What a `ProbeChildPool` runs, and its options: Node running `probe-child-script.ts`, spoken to
 * with the JSON line protocol of `probe-child-protocol.ts`.
 *
 * @module
 */
import { encodeRequest, parseMessage, type ProbeChildMessage, type ProbeRequest } from './probe-child-protocol.js';
import { PROBE_CHILD_SCRIPT } from './probe-child-script.js';

/** A probe child's program and its line protocol. */
export interface ProbeChildProgram {
  /** The executable. */
  file: string;
  /** Its arguments. */
  args: readonly string[];
  /** Environment variables for it (the parent's when absent, without `NODE_OPTIONS`). */
  env?: NodeJS.ProcessEnv;
  /** A request as the line the program reads (with its newline). */
  encode(request: ProbeRequest): string;
  /**
   * One line the program printed.
   * @throws {SyntaxError} When it is not one of the protocol's messages (the child is then replaced).
   */
  decode(line: string): ProbeChildMessage;
}

/** Node running the probe child script: every probe call. */
export function nodeProbeProgram(execPath: string = process.execPath): ProbeChildProgram {
  return { file: execPath, args: ['--max-old-space-size=32', '-e', PROBE_CHILD_SCRIPT], encode: encodeRequest, decode: parseMessage };
}

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
