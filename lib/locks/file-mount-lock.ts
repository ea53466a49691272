import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError, throwIfAborted } from '../commands/abort-error.js';
import { MountLockError } from '../errors.js';
import { encodeFileName } from '../filesystem/file-name.js';
import { inheritOwner, type Owner } from '../filesystem/inherit-owner.js';
import { MemoryMountLock } from './memory-mount-lock.js';
import type { MountLock, MountLockOptions } from './mount-lock.js';
import { currentProcessIdentity, isHolderGone, parseProcessIdentity, type ProcessIdentity } from './process-identity.js';

/** First and longest pause between two looks at a lock another process holds. */
const FIRST_POLL_MS = 1;
const MAX_POLL_MS = 50;
/** A take-over lasts microseconds; a claim older than this was left by a taker that died. */
const CLAIM_EXPIRY_MS = 1_000;

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** The lock file this process holds: its inode tells it apart from a later holder's. */
interface Held {
  path: string;
  ino: number;
}

/**
 * A {@link MountLock} shared by every process on the host: one lock file per key in a folder.
 *
 * Why this design: Node 20 has no `flock`/`fcntl` lock, and proper-lockfile's mtime staleness makes
 * a lock left by a `kill -9` cost seconds. Here a lock file is created atomically (`link` of a
 * complete temporary file, so nobody ever reads half of one) and holds its holder's pid, start
 * time, boot id and pid namespace. A waiter that finds the holder gone (no such pid, a zombie, a
 * reused pid, an earlier boot) removes the file at once, so a killed holder costs one poll
 * (≤ 50 ms). Two waiters that both find the same dead holder are kept apart by a claim, a hard
 * link `<lock>.takeover` to the dead file: only the one whose claim names that very inode removes
 * it, so a fresh lock is never taken for a stale one. Residual: a taker killed inside those
 * microseconds leaves a claim that expires after 1 s.
 *
 * Waiting polls with backoff (1 ms doubling to 50 ms: the lock is held for seconds across a
 * mount); waiters in this process queue in memory and only the first one polls. Holders in
 * another pid namespace cannot be judged and are never taken as gone. Not re-entrant.
 */
export class FileMountLock implements MountLock {
  readonly #local = new MemoryMountLock();
  readonly #directory: string | (() => Promise<string>);
  #resolved: Promise<{ path: string; owner: Owner }> | undefined;
  #self: ProcessIdentity | undefined;

  /**
   * @param directory The folder of the lock files (created, mode 0700, when missing), or a
   *   function resolving to it, called once.
   */
  constructor(directory: string | (() => Promise<string>)) {
    if (typeof directory !== 'function' && (typeof directory !== 'string' || directory === '')) {
      throw new TypeError(`Expected directory to be a non-empty string or a function, got ${JSON.stringify(directory)}`);
    }
    this.#directory = directory;
  }

  /**
   * @throws `AbortError` when `options.signal` aborts before the lock is taken.
   * @throws {@link MountLockError} when the lock folder cannot be made or written.
   */
  async withLock<T>(key: string, fn: () => Promise<T>, options: MountLockOptions = {}): Promise<T> {
    const { signal } = options;
    throwIfAborted(signal);
    const name = encodeFileName(key);
    if (name === undefined) throw new TypeError(`Expected key to be a non-empty string that fits a file name, got ${JSON.stringify(key)}`);
    return this.#local.withLock(
      key,
      async () => {
        const held = await this.#acquire(name, signal);
        try {
          return await fn();
        } finally {
          this.#release(held);
        }
      },
      options,
    );
  }

  /** Keys held or waited for by this process (through this instance). */
  get size(): number {
    return this.#local.size;
  }

  async #folder(): Promise<{ path: string; owner: Owner }> {
    this.#resolved ??= (async () => {
      const wanted = typeof this.#directory === 'string' ? this.#directory : await this.#directory();
      try {
        // A folder made here takes its parent's owner, as the store's own entries do.
        if (mkdirSync(wanted, { recursive: true, mode: 0o700 }) !== undefined) inheritOwner(wanted, lstatSync(dirname(wanted)));
        // Resolved once, so a link swapped later cannot move this process's locks elsewhere.
        const path = realpathSync(wanted);
        const { uid, gid } = lstatSync(path);
        return { path, owner: { uid, gid } };
      } catch (error) {
        throw new MountLockError(wanted, `Cannot use the lock folder ${wanted}: ${(error as Error).message}`, { cause: error });
      }
    })();
    try {
      return await this.#resolved;
    } catch (error) {
      this.#resolved = undefined;
      throw error;
    }
  }

  async #acquire(name: string, signal: AbortSignal | undefined): Promise<Held> {
    const folder = await this.#folder();
    const path = join(folder.path, `${name}.lock`);
    this.#self ??= currentProcessIdentity();
    const temporary = join(folder.path, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      writeFileSync(temporary, `${JSON.stringify(this.#self)}\n`, { flag: 'wx', mode: 0o600 });
      inheritOwner(temporary, folder.owner);
      const ino = lstatSync(temporary).ino;
      for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
        if (this.#tryLink(temporary, path)) return { path, ino };
        if (this.#breakIfStale(path)) continue;
        try {
          await sleep(pause, undefined, signal === undefined ? {} : { signal });
        } catch {
          throw abortError(signal);
        }
      }
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') throw error;
      throw new MountLockError(path, `Cannot take the lock ${path}: ${(error as Error).message}`, { cause: error });
    } finally {
      try {
        unlinkSync(temporary);
      } catch {
        // Never created (the folder cannot be written): the error above says so.
      }
    }
  }

  /** Creates the lock file; false when another holds it. */
  #tryLink(temporary: string, path: string): boolean {
    try {
      linkSync(temporary, path);
      return true;
    } catch (error) {
      if (errno(error) === 'EEXIST') return false;
      throw error;
    }
  }

  /** Removes the lock file when its holder is gone; true when the caller should try again at once. */
  #breakIfStale(path: string): boolean {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      if (errno(error) === 'ENOENT') return true;
      throw error;
    }
    // The open descriptor keeps the inode, so its number cannot be reused by a newer lock file.
    try {
      const holder = parseProcessIdentity(readFileSync(fd, 'utf8'));
      if (holder !== undefined && !isHolderGone(holder, this.#self ?? currentProcessIdentity())) return false;
      return this.#removeClaimed(path, fstatSync(fd).ino);
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the lock file if it is still inode `staleIno`, under a claim no other taker can share. */
  #removeClaimed(path: string, staleIno: number): boolean {
    const claim = `${path}.takeover`;
    try {
      linkSync(path, claim);
    } catch (error) {
      if (errno(error) === 'ENOENT') return true;
      if (errno(error) !== 'EEXIST') throw error;
      this.#expireClaim(claim);
      return false;
    }
    try {
      if (lstatSync(claim).ino === staleIno) unlinkSync(path);
    } finally {
      unlinkSync(claim);
    }
    return true;
  }

  /** Removes a claim whose taker died in the middle (`link` and `unlink` both set its ctime). */
  #expireClaim(claim: string): void {
    try {
      if (Date.now() - lstatSync(claim).ctimeMs > CLAIM_EXPIRY_MS) unlinkSync(claim);
    } catch (error) {
      if (errno(error) !== 'ENOENT') throw error;
    }
  }

  #release(held: Held): void {
    try {
      // Someone who judged this process gone may have taken the lock since: leave theirs.
      if (lstatSync(held.path).ino === held.ino) unlinkSync(held.path);
    } catch (error) {
      if (errno(error) !== 'ENOENT') throw new MountLockError(held.path, `Cannot release the lock ${held.path}: ${(error as Error).message}`, { cause: error });
    }
  }
}
