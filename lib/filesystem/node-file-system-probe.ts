import { constants, promises as fsp, readFileSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import type { FileSystemProbe, FuseAbortResult, MountEntry, PathStat, ProbeCall, ProbeCallResult, ProbeOptions } from './file-system-probe.js';
import { checkMountBase, type MountBaseOptions } from './check-mount-base.js';
import { countOpenFilesUnder } from './count-open-files.js';
import { abortFuseConnection, readFuseWaiting } from './fuse-connection.js';
import { ensureMountDirectory } from './ensure-mount-directory.js';
import { InProcessGuard } from './in-process-guard.js';
import { parseMountInfo } from './parse-mount-info.js';
import { ProbeChildPool, type ProbeChildPoolOptions } from './probe-child-pool.js';
import { toCallResults, toPathStat, type ProbeRequestBody } from './probe-child-protocol.js';
import { runCallsInOrder } from './run-calls-in-order.js';

/** Options for {@link NodeFileSystemProbe}. */
export interface NodeFileSystemProbeOptions {
  /**
   * The mount table to read.
   * @default '/proc/self/mountinfo'
   */
  mountInfoPath?: string;
  /**
   * Where the `fusectl` file system exposes FUSE connections.
   * @default '/sys/fs/fuse/connections'
   */
  fuseConnectionsPath?: string;
  /**
   * Where the name of PID 1 is read.
   * @default '/proc/1/comm'
   */
  initCommPath?: string;
  /**
   * Make every call that may reach a mount in a killable child process (see the class notes).
   * `false` makes them in this process: a call that timed out on a hung mount then holds one
   * of libuv's four I/O threads until the client answers or its connection is aborted.
   * @default true
   */
  contained?: boolean;
  /** How many probe children, for how long; see {@link ProbeChildPoolOptions}. */
  probeChildren?: ProbeChildPoolOptions;
}

function statsToPathStat(stats: Stats): PathStat {
  return {
    size: stats.size,
    mode: stats.mode,
    uid: stats.uid,
    gid: stats.gid,
    isFile: stats.isFile(),
    isDirectory: stats.isDirectory(),
    isSymbolicLink: stats.isSymbolicLink(),
    dev: stats.dev,
    ino: stats.ino,
  };
}

/** How images are opened: never through a final link, never blocked by a FIFO or device. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Absence, as `pathExists` means it: nothing can exist below a missing directory or a file. */
function isAbsence(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * The default {@link FileSystemProbe}, on `node:fs` and `/proc/self/mountinfo`.
 *
 * A `stat` of a hung FUSE mount never returns: made in this process it would hold one of
 * libuv's (by default four) I/O threads until the client answers, and four of them stall every
 * file read of the process. So every call that may reach a mount (`stat`, `lstat`, `readBytes`,
 * `realPath`, `pathExists`, `isWritable`, `ensureDirectory`, `removeDirectory`) runs in a
 * child process (`ProbeChildPool`); a call that passes `timeoutMs` and gets no answer in
 * time rejects with `ETIMEDOUT`, and its child is killed, so no thread is left behind anywhere.
 * The time starts when a child takes the call, not while it waits for one. Calls on the same
 * path with a timeout share one answer (unless `fresh`). The mount table, `/proc` and `fusectl`
 * never block and are read in this process.
 *
 * Call {@link NodeFileSystemProbe.close} to end the children early; idle children never keep
 * the process alive.
 */
/** Besides root, this process's user may own the base when it is not root. */
function agentOwner(): MountBaseOptions {
  const uid = process.getuid?.();
  return uid === undefined || uid === 0 ? {} : { agentUid: uid };
}

export class NodeFileSystemProbe implements FileSystemProbe {
  readonly #mountInfoPath: string;
  readonly #fuseConnectionsPath: string;
  readonly #initCommPath: string;
  readonly #pool: ProbeChildPool | undefined;
  readonly #guard = new InProcessGuard();
  /** Calls with a timeout still waiting for a child's answer, by operation and path. */
  readonly #shared = new Map<string, Promise<unknown>>();

  /** @throws {TypeError} When a `probeChildren` option is out of range. */
  constructor(options: NodeFileSystemProbeOptions = {}) {
    this.#mountInfoPath = options.mountInfoPath ?? '/proc/self/mountinfo';
    this.#fuseConnectionsPath = options.fuseConnectionsPath ?? '/sys/fs/fuse/connections';
    this.#initCommPath = options.initCommPath ?? '/proc/1/comm';
    this.#pool = options.contained === false ? undefined : new ProbeChildPool(options.probeChildren);
  }

  /** Reads and parses the mount table. */
  async listMounts(): Promise<MountEntry[]> {
    // One synchronous read: /proc files are generated on read, and the promise API's
    // chunked reads cost about ten times more for the same bytes.
    return Promise.resolve(parseMountInfo(readFileSync(this.#mountInfoPath, 'utf8')));
  }

  /** `stat(2)` with a timeout; see the class notes on hung mounts. */
  async stat(path: string, options: ProbeOptions = {}): Promise<PathStat> {
    if (this.#pool !== undefined) return toPathStat(await this.#contained({ op: 'stat', path }, options));
    return statsToPathStat(await this.#guard.run(`stat:${path}`, path, options, () => fsp.stat(path)));
  }

  /** `lstat(2)` with a timeout. */
  async lstat(path: string, options: ProbeOptions = {}): Promise<PathStat> {
    if (this.#pool !== undefined) return toPathStat(await this.#contained({ op: 'lstat', path }, options));
    return statsToPathStat(await this.#guard.run(`lstat:${path}`, path, options, () => fsp.lstat(path)));
  }

  async isWritable(path: string, options: ProbeOptions = {}): Promise<boolean> {
    const mode = constants.W_OK | constants.X_OK;
    try {
      if (this.#pool !== undefined) await this.#contained({ op: 'access', path, mode }, options);
      else await fsp.access(path, mode);
      return true;
    } catch {
      return false;
    }
  }

  async ensureDirectory(path: string, options: ProbeOptions = {}): Promise<void> {
    if (this.#pool !== undefined) await this.#contained({ op: 'mkdir', path }, options);
    else await fsp.mkdir(path, { recursive: true });
  }

  async removeDirectory(path: string, options: ProbeOptions = {}): Promise<void> {
    if (this.#pool !== undefined) await this.#contained({ op: 'rmdir', path }, options);
    else await fsp.rmdir(path);
  }

  async pathExists(path: string, options: ProbeOptions = {}): Promise<boolean> {
    try {
      if (this.#pool !== undefined) await this.#contained({ op: 'lstat', path }, options);
      else await fsp.lstat(path);
      return true;
    } catch (error) {
      if (isAbsence(error)) return false;
      throw error;
    }
  }

  async readInitProcessName(): Promise<string | undefined> {
    try {
      return (await fsp.readFile(this.#initCommPath, 'utf8')).trim();
    } catch {
      return undefined;
    }
  }

  async realPath(path: string, options: ProbeOptions = {}): Promise<string> {
    if (this.#pool !== undefined) return String(await this.#contained({ op: 'realpath', path }, options));
    return fsp.realpath(path);
  }

  /** Several calls in one round trip to a probe child (in order, in process when not contained). */
  async batch(calls: readonly ProbeCall[], options: ProbeOptions = {}): Promise<ProbeCallResult[]> {
    // The children run in `/`: a relative path means what it means here.
    const resolved = calls.map((call) => ({ ...call, path: resolve(call.path) }));
    if (this.#pool === undefined) return runCallsInOrder(this, resolved, options);
    return toCallResults(resolved, await this.#pool.run({ op: 'batch', calls: resolved }, options.timeoutMs));
  }

  /**
   * Up to `length` bytes at `position`. Opened with `O_RDONLY | O_NOFOLLOW | O_NONBLOCK`: a
   * link swapped in after the caller's `lstat` fails with `ELOOP`, and a FIFO or device
   * answers at once (empty, or `EAGAIN`) rather than blocking.
   */
  async readBytes(path: string, position: number, length: number, options: ProbeOptions = {}): Promise<Uint8Array> {
    if (this.#pool !== undefined) {
      // Callers sharing one read each get their own bytes.
      return new Uint8Array(Buffer.from(String(await this.#contained({ op: 'read', path, position, length }, options)), 'base64'));
    }
    const bytes = await this.#guard.run(`read:${position}:${length}:${path}`, path, options, async () => {
      const handle = await fsp.open(path, READ_FLAGS);
      try {
        const buffer = new Uint8Array(length);
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    });
    return bytes.slice();
  }

  /**
   * Creates the mount base where it is missing, then checks it (not a link; it and its parents
   * owned by root or this user, not writable by others) and resolves it.
   * @throws {@link InsecureMountBaseError}
   */
  async secureMountBase(base: string): Promise<string> {
    await fsp.mkdir(base, { recursive: true, mode: 0o755 });
    return checkMountBase(base, agentOwner());
  }

  /**
   * Creates `<base>/<name>` without following a link and checks what is there.
   * @throws {@link InsecureMountBaseError}
   */
  async createMountDirectory(base: string, name: string): Promise<string> {
    return ensureMountDirectory(base, name, agentOwner());
  }

  /** Processes holding files under `path`, from `/proc` alone (answers on a hung mount too). */
  countOpenFilesUnder(path: string): Promise<number> {
    return countOpenFilesUnder(path);
  }

  /**
   * Aborts the FUSE connection with this minor device number: every request stuck on it fails
   * at once with `ECONNABORTED`, which frees the threads a hung client holds.
   */
  abortFuseConnection(minor: number): Promise<FuseAbortResult> {
    return abortFuseConnection(this.#fuseConnectionsPath, minor);
  }

  /**
   * How many requests the FUSE connection with this minor has sent to its client and not yet
   * had answered (`fusectl`'s `waiting`), or `undefined` when there is no such connection.
   * Never blocks; 0 does not say a `stat` would answer (an idle hung client has 0 waiting).
   */
  fuseWaiting(minor: number): Promise<number | undefined> {
    return readFuseWaiting(this.#fuseConnectionsPath, minor);
  }

  /** Kills the probe children; a later call starts a new one. Waiting calls reject with `ECANCELED`. */
  close(): void {
    this.#pool?.close();
  }

  /** Starts a probe child now (when none runs), to overlap its start with other work. */
  warmUp(): void {
    this.#pool?.warmUp();
  }

  /** PIDs of the live probe children (none with `contained: false`). */
  get probeChildPids(): number[] {
    return this.#pool?.pids ?? [];
  }

  /** Runs a call in a probe child; calls with a timeout on the same thing share one answer. */
  #contained(body: Exclude<ProbeRequestBody, { op: 'batch' }>, options: ProbeOptions): Promise<unknown> {
    // The children run in `/`: a relative path means what it means here.
    body.path = resolve(body.path);
    const pool = this.#pool as ProbeChildPool;
    const { timeoutMs } = options;
    const changes = body.op === 'mkdir' || body.op === 'rmdir';
    if (timeoutMs === undefined || changes) return pool.run(body, timeoutMs);
    const key = JSON.stringify(body);
    const joined = options.fresh === true ? undefined : this.#shared.get(key);
    if (joined !== undefined) return joined;
    const own = pool.run(body, timeoutMs);
    this.#shared.set(key, own);
    // Settled, it no longer stands for a call in flight; nobody may be left to see a rejection.
    own.finally(() => { if (this.#shared.get(key) === own) this.#shared.delete(key); }).catch(() => undefined);
    return own;
  }
}
