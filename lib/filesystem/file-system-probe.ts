/**
 * How the library looks at the host. The default is {@link NodeFileSystemProbe}; tests and
 * agents that look at another host supply their own.
 *
 * @module
 */

/** One line of the mount table. */
export interface MountEntry {
  /** Where it is mounted, with octal escapes decoded. */
  mountPoint: string;
  /** What is mounted (`quobyte@registry/volume`, `tmpfs`, ...). */
  source: string;
  /** File-system type including subtype (`fuse.quobyte`). */
  fsType: string;
  /** Per-mount options (`rw`, `nosuid`, ...). */
  options: readonly string[];
  /** Mount id (first field of mountinfo), when known. */
  mountId?: number;
  /** Device number `major:minor`, when known. */
  device?: string;
}

/** The parts of `stat(2)` the drivers use. */
export interface PathStat {
  /** `st_size` in bytes. A Quobyte mount's root reports 0. */
  size: number;
  /** `st_mode`: file type and permission bits. */
  mode: number;
  /** `st_uid`: the owner. */
  uid: number;
  /** `st_gid`: the group. */
  gid: number;
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** A symbolic link (only `lstat` can say so). */
  isSymbolicLink: boolean;
  /** Device id (`st_dev`); tells one mount from the one it replaced. */
  dev?: number;
  /** Inode number (`st_ino`). */
  ino?: number;
}

/**
 * Per-call options for probes that may block on a hung mount. Every method that takes them may
 * reach a mount; pass `timeoutMs` wherever the path may be on one.
 */
export interface ProbeOptions {
  /** Give up after this many milliseconds and reject with an error whose `code` is `ETIMEDOUT`. */
  timeoutMs?: number;
  /**
   * Do not join a call already waiting on this path: ask the kernel again. For the first look
   * at a mount that replaced a hung one, whose old call may never return.
   */
  fresh?: boolean;
}

/** One call of {@link FileSystemProbe.batch}. */
export type ProbeCall =
  /** `stat(2)`; with `dev`, a file on another device fails with `EXDEV` (and stops the batch). */
  | { op: 'stat'; path: string; dev?: number }
  | { op: 'lstat'; path: string }
  | { op: 'read'; path: string; position: number; length: number };

/**
 * What one call of a batch gave: its value (a {@link PathStat}, or the bytes of a `read`), its
 * error, or `undefined` when an earlier call failed and this one never ran.
 */
export type ProbeCallResult = { ok: PathStat | Uint8Array; error?: undefined } | { ok?: undefined; error: NodeJS.ErrnoException } | undefined;

/**
 * Looks at the host. Every failure rejects with an error whose `code` is the errno name
 * (`ENOTCONN`, `ENOENT`, `ETIMEDOUT`, ...), so callers tell failures apart without reading
 * messages.
 */
export interface FileSystemProbe {
  /** The mount table of this process's mount namespace. */
  listMounts(): Promise<MountEntry[]>;
  /** `stat(2)`, following links. May block on a hung mount, so it takes a timeout. */
  stat(path: string, options?: ProbeOptions): Promise<PathStat>;
  /** `lstat(2)`, not following a final link. */
  lstat(path: string, options?: ProbeOptions): Promise<PathStat>;
  /** Whether the current user may write to and search the directory. */
  isWritable(path: string, options?: ProbeOptions): Promise<boolean>;
  /** `mkdir -p`. An existing directory is fine. */
  ensureDirectory(path: string, options?: ProbeOptions): Promise<void>;
  /** `rmdir`: removes an empty directory only. */
  removeDirectory(path: string, options?: ProbeOptions): Promise<void>;
  /** Whether anything (even a dangling link) exists at the path. */
  pathExists(path: string, options?: ProbeOptions): Promise<boolean>;
  /** The name of PID 1 (`systemd`, `init`, ...), or `undefined` when it cannot be read. */
  readInitProcessName(): Promise<string | undefined>;

  // Optional capabilities: the drivers use them when a probe offers them.

  /** `realpath(3)`: the canonical path, as the kernel writes it in the mount table. */
  realPath?(path: string, options?: ProbeOptions): Promise<string>;
  /** Reads up to `length` bytes at `position` (e.g. a qcow2 header). */
  readBytes?(path: string, position: number, length: number, options?: ProbeOptions): Promise<Uint8Array>;
  /**
   * Aborts the FUSE connection whose device minor is given (root, `fusectl`): every request
   * stuck on a hung client then fails with `ECONNABORTED`.
   */
  abortFuseConnection?(minor: number): Promise<FuseAbortResult>;
  /**
   * How many processes hold files open (or their working directory) under a path, read from
   * `/proc` without touching the mount itself, so it answers on a hung mount too.
   */
  countOpenFilesUnder?(path: string): Promise<number>;
  /**
   * Creates the mount base where missing, checks that only root (or the agent) can change it
   * and that it is no link, and resolves it. Run before any command that acts under it.
   */
  secureMountBase?(base: string): Promise<string>;
  /** Creates `<base>/<name>` without following links, and checks it is a real directory of ours. */
  createMountDirectory?(base: string, name: string): Promise<string>;
  /**
   * Requests the FUSE connection whose device minor is given has sent to its client and not had
   * answered yet (`fusectl`'s `waiting`), or `undefined` when there is no such connection.
   * Never blocks. Not a health check: a hung client that was idle has 0 waiting.
   */
  fuseWaiting?(minor: number): Promise<number | undefined>;
  /**
   * Several calls in order, in one contained round trip (the warm connect: the mount's root and
   * the image at once). The first call that fails stops the rest. `timeoutMs` is for them all.
   */
  batch?(calls: readonly ProbeCall[], options?: ProbeOptions): Promise<ProbeCallResult[]>;
}

/** What {@link FileSystemProbe.abortFuseConnection} did. */
export type FuseAbortResult = 'aborted' | 'no-connection' | 'no-fusectl';

