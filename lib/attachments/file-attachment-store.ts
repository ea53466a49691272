import { closeSync, constants, fchownSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmdirSync, unlinkSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { AttachmentStoreError } from '../errors.js';
import { decodeFileName, encodeFileName } from '../filesystem/file-name.js';
import { inheritOwner } from '../filesystem/inherit-owner.js';
import { FileMountLock } from '../locks/file-mount-lock.js';
import type { AttachmentStore, AttachmentTable } from './attachment-store.js';
import { readJsonStoreFile } from './json-store-file.js';
import { fsyncFolder, LOCKS_FOLDER, openStoreDirectory, readFolderInSlices, type StoreDirectory } from './store-directory.js';

/** Options of {@link FileAttachmentStore}. */
export interface FileAttachmentStoreOptions {
  /**
   * Also fsync every change, so it survives a power loss or kernel crash, at the cost of a disk
   * flush per change (≈2.5 ms here instead of ≈0.1 ms). Without it a change survives the crash of
   * any process, and a power loss keeps each record whole or absent.
   *
   * @default false
   */
  fsync?: boolean;
}

const CREATE_RECORD = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * An {@link AttachmentStore} on disk, so an agent that restarts still knows which guests use which
 * share, shared by every process on the host that names the same file.
 *
 * Layout (chosen by measurement, see docs/operations.md): a folder `<filePath>.d/` with one folder
 * per mount point and one empty file per attachment, both named by `encodeFileName`. Each
 * change is one atomic file-system call (create-exclusive or unlink), so two processes never lose
 * each other's updates and no lock is needed to write; a check that finds the attachment recorded
 * is one `lstat` and writes nothing; a change costs the same with 10 or 10,000 attachments. The
 * calls are synchronous on purpose: each is one syscall on a local folder, cheaper than a round
 * trip through libuv's thread pool, and never queued behind threads blocked by a hung mount. A
 * first-format JSON file at `filePath` is merged in on first use and renamed
 * `<filePath>.v1-migrated`. Anything in the folder this code did not write (an undecodable name, a
 * link, a folder where a record belongs, an unknown format) is an error that names it, and nothing
 * is removed.
 *
 * @example
 * ```ts
 * const attachments = new FileAttachmentStore('/var/lib/my-agent/attachments.json');
 * const driver = new QuobyteVolumeDriver({ mountPointBase: '/var/lib/nova/mnt', attachments });
 * ```
 */
export class FileAttachmentStore implements AttachmentStore {
  readonly #filePath: string;
  readonly #fsync: boolean;
  #directory: StoreDirectory | undefined;
  /**
   * The host-wide lock per mount point for this store's users: lock files in `<folder>/.locks`,
   * so every process naming this store shares it (see {@link FileMountLock}).
   */
  readonly mountLock: FileMountLock;

  /**
   * @param filePath The store's path; the folder beside it, `<filePath>.d`, holds the records. A
   *   missing parent folder is created with mode 0700; a link is resolved once, on first use.
   * @throws TypeError when `filePath` is not a non-empty string.
   */
  constructor(filePath: string, options: FileAttachmentStoreOptions = {}) {
    if (typeof filePath !== 'string' || filePath === '') {
      throw new TypeError(`Expected filePath to be a non-empty string, got ${JSON.stringify(filePath)}`);
    }
    this.#filePath = filePath;
    this.#fsync = options.fsync ?? false;
    this.mountLock = new FileMountLock(() => Promise.resolve(join(this.#open(true).path, LOCKS_FOLDER)));
  }

  /** The path the store was given. */
  get filePath(): string {
    return this.#filePath;
  }

  /** @throws {@link AttachmentStoreError} */
  async has(mountPath: string, attachmentId: string): Promise<boolean> {
    const directory = this.#open(false);
    const mount = encodeFileName(mountPath);
    const id = encodeFileName(attachmentId);
    if (directory === undefined || mount === undefined || id === undefined) return Promise.resolve(false);
    const path = join(directory.path, mount, id);
    let found: boolean;
    try {
      found = lstatSync(path, { throwIfNoEntry: false })?.isFile() === true;
    } catch (error) {
      if (errno(error) !== 'ENOTDIR') throw this.#error(`Cannot read the attachment store ${path}`, error);
      found = false;
    }
    return Promise.resolve(found);
  }

  /** @throws {@link AttachmentStoreError} */
  async add(mountPath: string, attachmentId: string): Promise<number> {
    const [mount, id] = this.#names(mountPath, attachmentId);
    const directory = this.#open(true);
    const folder = join(directory.path, mount);
    const created = this.#create(directory, folder, id);
    let count: number;
    try {
      count = this.#read(folder).length;
    } catch (error) {
      // The mount point's folder holds something foreign: refuse, and take back this record.
      if (created) unlinkSync(join(folder, id));
      throw error;
    }
    if (created && this.#fsync) fsyncFolder(folder);
    return Promise.resolve(count);
  }

  /** @throws {@link AttachmentStoreError} */
  async remove(mountPath: string, attachmentId: string): Promise<number> {
    const [mount, id] = this.#names(mountPath, attachmentId);
    const directory = this.#open(false);
    if (directory === undefined) return Promise.resolve(0);
    const folder = join(directory.path, mount);
    const before = this.#read(folder);
    if (!before.includes(attachmentId)) return Promise.resolve(before.length);
    try {
      unlinkSync(join(folder, id));
    } catch (error) {
      if (errno(error) !== 'ENOENT') throw this.#error(`Cannot write the attachment store ${folder}`, error);
    }
    const left = this.#read(folder).length;
    if (left === 0) {
      try {
        rmdirSync(folder);
      } catch {
        // Someone added meanwhile (ENOTEMPTY) or removed it first: either is fine.
      }
    }
    if (this.#fsync) fsyncFolder(left === 0 ? directory.path : folder);
    return Promise.resolve(left);
  }

  /** @throws {@link AttachmentStoreError} */
  async list(mountPath: string): Promise<readonly string[]> {
    const directory = this.#open(false);
    const mount = encodeFileName(mountPath);
    return Promise.resolve(directory === undefined || mount === undefined ? [] : this.#read(join(directory.path, mount)));
  }

  /**
   * Every mount point with at least one attachment. Reads the whole folder through
   * {@link FileAttachmentStore.scan}; changes made meanwhile may or may not be seen.
   *
   * @throws {@link AttachmentStoreError}
   */
  async entries(): Promise<AttachmentTable> {
    const table = new Map<string, string[]>();
    for await (const [mountPath, ids] of this.scan()) table.set(mountPath, ids);
    return table;
  }

  /**
   * Each mount point with at least one attachment and its ids, read a few at a time and
   * yielding to the event loop every few milliseconds, so that a store of hundreds of thousands
   * of mount points never holds the loop up and a caller that needs no table builds none.
   * Changes made meanwhile may or may not be seen.
   *
   * @throws {@link AttachmentStoreError}
   */
  async *scan(): AsyncGenerator<[string, string[]], void, undefined> {
    const directory = this.#open(false);
    if (directory === undefined) return;
    const entries = readFolderInSlices(directory.path, (error) => this.#error(`Cannot read the attachment store ${directory.path}`, error));
    for await (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const mountPath = decodeFileName(entry.name);
      if (mountPath === undefined || !entry.isDirectory()) throw this.#corrupt(join(directory.path, entry.name));
      const ids = this.#read(join(directory.path, entry.name));
      if (ids.length > 0) yield [mountPath, ids];
    }
  }

  /**
   * Replaces the whole store: adds what is missing first, then removes the rest, so a crash in
   * between leaves more attachments recorded, never fewer.
   *
   * @throws {@link AttachmentStoreError}
   */
  async replaceAll(table: AttachmentTable): Promise<void> {
    for (const [mountPath, ids] of table) for (const id of ids) this.#names(mountPath, id);
    const current = await this.entries();
    for (const [mountPath, ids] of table) for (const id of ids) await this.add(mountPath, id);
    for (const [mountPath, ids] of current) {
      const keep = new Set(table.get(mountPath) ?? []);
      for (const id of ids) if (!keep.has(id)) await this.remove(mountPath, id);
    }
  }

  /**
   * Resolves the folder on first use and merges a first-format JSON file into it. Readers of a
   * store never written get `undefined` and create nothing (a dry run writes nothing).
   */
  #open(create: true): StoreDirectory;
  #open(create: boolean): StoreDirectory | undefined;
  #open(create: boolean): StoreDirectory | undefined {
    if (this.#directory !== undefined) return this.#directory;
    const directory = openStoreDirectory(this.#filePath, create);
    if (directory === undefined) return undefined;
    if (lstatSync(directory.jsonPath, { throwIfNoEntry: false }) !== undefined) {
      // Merging (a union) is safe to repeat and to race: more attachments recorded, never fewer.
      for (const [mountPath, ids] of readJsonStoreFile(directory.jsonPath)) {
        for (const id of ids) {
          const mount = encodeFileName(mountPath);
          const name = encodeFileName(id);
          if (mount === undefined || name === undefined) {
            throw new AttachmentStoreError(this.#filePath, `Cannot migrate the attachment store ${directory.jsonPath}: ${JSON.stringify(mountPath)} / ${JSON.stringify(id)} cannot be a file name; it was left as it is`);
          }
          this.#create(directory, join(directory.path, mount), name);
          fsyncFolder(join(directory.path, mount));
        }
      }
      fsyncFolder(directory.path);
      try {
        renameSync(directory.jsonPath, `${directory.jsonPath}.v1-migrated`);
      } catch (error) {
        if (errno(error) !== 'ENOENT') throw this.#error(`Cannot migrate the attachment store ${directory.jsonPath}`, error);
      }
    }
    this.#directory = directory;
    return directory;
  }

  #names(mountPath: string, attachmentId: string): [string, string] {
    const mount = encodeFileName(mountPath);
    const id = encodeFileName(attachmentId);
    if (mount === undefined) throw new TypeError(`Expected mountPath to be a non-empty string of at most 230 encoded bytes, got ${JSON.stringify(mountPath)}`);
    if (id === undefined) throw new TypeError(`Expected attachmentId to be a non-empty string of at most 230 encoded bytes, got ${JSON.stringify(attachmentId)}`);
    return [mount, id];
  }

  /** Records one attachment: true when this call created it, false when it was there. */
  #create(directory: StoreDirectory, folder: string, id: string): boolean {
    const path = join(folder, id);
    for (let attempt = 0; ; attempt += 1) {
      try {
        const fd = openSync(path, CREATE_RECORD, directory.fileMode);
        try {
          if (process.getuid?.() === 0) fchownSync(fd, directory.owner.uid, directory.owner.gid);
        } finally {
          closeSync(fd);
        }
        return true;
      } catch (error) {
        if (errno(error) === 'EEXIST') return false;
        // The mount point's folder is missing (or was just removed by its last remover): make it.
        if (errno(error) !== 'ENOENT' || attempt >= 8) throw this.#error(`Cannot write the attachment store ${path}`, error);
      }
      try {
        mkdirSync(folder, { mode: directory.dirMode });
        inheritOwner(folder, directory.owner);
        if (this.#fsync) fsyncFolder(directory.path);
      } catch (error) {
        if (errno(error) !== 'EEXIST') throw this.#error(`Cannot write the attachment store ${folder}`, error);
      }
    }
  }

  /** The attachment ids in one mount point's folder. */
  #read(folder: string): string[] {
    const ids: string[] = [];
    for (const entry of this.#readdir(folder)) {
      const id = decodeFileName(entry.name);
      if (id === undefined || !entry.isFile()) throw this.#corrupt(join(folder, entry.name));
      ids.push(id);
    }
    // readdir's order is the file system's hash order: sort, so listings are stable.
    return ids.sort();
  }

  #readdir(folder: string): Dirent[] {
    try {
      return readdirSync(folder, { withFileTypes: true });
    } catch (error) {
      if (errno(error) === 'ENOENT') return [];
      throw this.#error(`Cannot read the attachment store ${folder}`, error);
    }
  }

  #corrupt(path: string): AttachmentStoreError {
    return new AttachmentStoreError(this.#filePath, `The attachment store ${this.#filePath} is corrupt (unexpected entry ${path}); it was left as it is`);
  }

  #error(message: string, cause: unknown): AttachmentStoreError {
    return new AttachmentStoreError(this.#filePath, `${message}: ${(cause as Error).message}`, { cause });
  }
}
