import { constants, promises as fsp, readdirSync, readFileSync, writeFileSync, type Stats } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import type { FileSystemProbe, FuseAbortResult, MountEntry, PathStat, ProbeOptions } from './file-system-probe.js';
import { parseMountInfo } from './parse-mount-info.js';

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
}

/** A call that may hang, shared by everyone who asks the same while it runs. */
interface Pending<T> {
  startedAt: number;
  operation: Promise<T>;
}

function timeoutError(path: string, timeoutMs: number): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`ETIMEDOUT: no answer within ${timeoutMs} ms, stat '${path}'`);
  error.code = 'ETIMEDOUT';
  error.path = path;
  return error;
}

function toPathStat(stats: Stats): PathStat {
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

/**
 * The default {@link FileSystemProbe}, on `node:fs` and `/proc/self/mountinfo`.
 *
 * A `stat` of a hung FUSE mount never returns and holds one of libuv's (by default four) I/O
 * threads until the client answers. So calls that may touch a mount take a timeout, and while
 * one call on a path is still unanswered, further calls on that path wait for that same call
 * instead of taking another thread: a hung mount holds at most one thread, and
 * {@link NodeFileSystemProbe.abortFuseConnection} frees it.
 */
export class NodeFileSystemProbe implements FileSystemProbe {
  readonly #mountInfoPath: string;
  readonly #fuseConnectionsPath: string;
  readonly #initCommPath: string;
  /** Calls still waiting for the kernel, by operation and path. */
  readonly #pending = new Map<string, Pending<unknown>>();

  constructor(options: NodeFileSystemProbeOptions = {}) {
    this.#mountInfoPath = options.mountInfoPath ?? '/proc/self/mountinfo';
    this.#fuseConnectionsPath = options.fuseConnectionsPath ?? '/sys/fs/fuse/connections';
    this.#initCommPath = options.initCommPath ?? '/proc/1/comm';
  }

  /** Reads and parses the mount table. */
  async listMounts(): Promise<MountEntry[]> {
    // One synchronous read: /proc files are generated on read, and the promise API's
    // chunked reads cost about ten times more for the same bytes.
    return Promise.resolve(parseMountInfo(readFileSync(this.#mountInfoPath, 'utf8')));
  }

  /** `stat(2)` with a timeout; see the class notes on hung mounts. */
  async stat(path: string, options: ProbeOptions = {}): Promise<PathStat> {
    return toPathStat(await this.#guarded(`stat:${path}`, path, options, () => fsp.stat(path)));
  }

  /** `lstat(2)` with a timeout. */
  async lstat(path: string, options: ProbeOptions = {}): Promise<PathStat> {
    return toPathStat(await this.#guarded(`lstat:${path}`, path, options, () => fsp.lstat(path)));
  }

  async isWritable(path: string): Promise<boolean> {
    try {
      await fsp.access(path, constants.W_OK | constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }

  async ensureDirectory(path: string): Promise<void> {
    await fsp.mkdir(path, { recursive: true });
  }

  async removeDirectory(path: string): Promise<void> {
    await fsp.rmdir(path);
  }

  async pathExists(path: string): Promise<boolean> {
    try {
      await fsp.lstat(path);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Nothing can exist below a missing directory or below a file.
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
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

  async realPath(path: string): Promise<string> {
    return fsp.realpath(path);
  }

  async readBytes(path: string, position: number, length: number, options: ProbeOptions = {}): Promise<Uint8Array> {
    const bytes = await this.#guarded(`read:${position}:${length}:${path}`, path, options, async () => {
      const handle = await fsp.open(path, 'r');
      try {
        const buffer = new Uint8Array(length);
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    });
    // Callers sharing one read each get their own bytes.
    return bytes.slice();
  }

  /**
   * Aborts the FUSE connection with this minor device number: every request stuck on it fails
   * at once with `ECONNABORTED`, which frees the threads a hung client holds.
   */
  abortFuseConnection(minor: number): Promise<FuseAbortResult> {
    const abortFile = `${this.#fuseConnectionsPath}/${minor}/abort`;
    try {
      // Synchronous on purpose: this sysfs write never blocks, and the I/O threads it would
      // otherwise queue for may be the very ones the hung mount holds.
      writeFileSync(abortFile, '1');
      return Promise.resolve('aborted');
    } catch (caught) {
      const error = caught as NodeJS.ErrnoException;
      if (error.code !== 'ENOENT') return Promise.reject(error);
      // No such connection, or fusectl is not mounted at all (its directory is then empty).
      let connections: string[] = [];
      try {
        connections = readdirSync(dirname(dirname(abortFile)));
      } catch {
        // no directory: no fusectl
      }
      return Promise.resolve(connections.length === 0 ? 'no-fusectl' : 'no-connection');
    }
  }

  /** Runs a call that may block on a hung mount; see the class notes. */
  async #guarded<T>(key: string, path: string, options: ProbeOptions, call: () => Promise<T>): Promise<T> {
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
    const left = pending.startedAt + timeoutMs - performance.now();
    if (left <= 0) throw timeoutError(path, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { reject(timeoutError(path, timeoutMs)); }, left);
    });
    try {
      return await Promise.race([pending.operation, expiry]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Whether `file` names a file that is there, as a shell looks for a program: a path with a `/`
 * as it is, a bare name in each folder of `pathList` (an empty entry is the current folder). A
 * folder that cannot be searched hides what it holds, as it does from `execvp`.
 */
export async function isProgramOnPath(file: string, pathList: string): Promise<boolean> {
  const candidates = file.includes('/') ? [file] : pathList.split(':').map((dir) => join(dir === '' ? '.' : dir, file));
  for (const candidate of candidates) {
    const stats = await fsp.stat(candidate).catch(() => undefined);
    if (stats?.isFile() === true) return true;
  }
  return false;
}
