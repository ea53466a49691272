import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Mutex } from 'async-mutex';
import lockfile from 'proper-lockfile';
import { AttachmentStoreError } from '../errors.js';
import type { AttachmentStore, AttachmentTable } from './attachment-store.js';

/** Version 1 of the file: `{ "version": 1, "mounts": { "<mount path>": ["<attachment id>", ...] } }`. */
interface StoreFile {
  version: 1;
  mounts: Record<string, string[]>;
}

/** How long another process may hold the lock before it counts as dead (its mtime is refreshed meanwhile). */
const STALE_LOCK_MS = 10_000;

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * An {@link AttachmentStore} kept in a JSON file, so an agent that restarts still knows which
 * guests use which share. Every change is written atomically (temporary file, fsync, rename,
 * fsync of the directory) with mode 0600, under an in-process mutex and a lock file that other
 * processes on the host honour. A corrupt file is an error that names the file; it is never
 * emptied or overwritten.
 *
 * @example
 * ```ts
 * const driver = new QuobyteVolumeDriver({
 *   mountPointBase: '/var/lib/nova/mnt',
 *   attachments: new FileAttachmentStore('/var/lib/my-agent/attachments.json'),
 * });
 * ```
 */
export class FileAttachmentStore implements AttachmentStore {
  readonly #filePath: string;
  readonly #mutex = new Mutex();

  /** @param filePath The JSON file; its directory must exist. */
  constructor(filePath: string) {
    if (typeof filePath !== 'string' || filePath === '') {
      throw new TypeError(`Expected filePath to be a non-empty string, got ${JSON.stringify(filePath)}`);
    }
    this.#filePath = filePath;
  }

  /** The store's file. */
  get filePath(): string {
    return this.#filePath;
  }

  async add(mountPath: string, attachmentId: string): Promise<number> {
    return this.#update((mounts) => {
      const ids = mounts.get(mountPath) ?? [];
      if (ids.includes(attachmentId)) return { changed: false, result: ids.length };
      mounts.set(mountPath, [...ids, attachmentId]);
      return { changed: true, result: ids.length + 1 };
    });
  }

  async remove(mountPath: string, attachmentId: string): Promise<number> {
    return this.#update((mounts) => {
      const ids = mounts.get(mountPath) ?? [];
      if (!ids.includes(attachmentId)) return { changed: false, result: ids.length };
      const left = ids.filter((id) => id !== attachmentId);
      if (left.length === 0) mounts.delete(mountPath);
      else mounts.set(mountPath, left);
      return { changed: true, result: left.length };
    });
  }

  async list(mountPath: string): Promise<readonly string[]> {
    // Readers need no lock: the file is only ever replaced whole, by rename.
    return [...((await this.#read()).get(mountPath) ?? [])];
  }

  async entries(): Promise<AttachmentTable> {
    return this.#read();
  }

  async replaceAll(table: AttachmentTable): Promise<void> {
    await this.#update((mounts) => {
      mounts.clear();
      for (const [path, ids] of table) if (ids.length > 0) mounts.set(path, [...new Set(ids)]);
      return { changed: true, result: undefined };
    });
  }

  async #read(): Promise<Map<string, string[]>> {
    let text: string;
    try {
      text = await fsp.readFile(this.#filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new AttachmentStoreError(this.#filePath, `Cannot read the attachment store ${this.#filePath}: ${(error as Error).message}`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new AttachmentStoreError(this.#filePath, `The attachment store ${this.#filePath} is corrupt (not JSON); it was left as it is`, { cause: error });
    }
    const file = parsed as { version?: unknown; mounts?: unknown } | null;
    const mounts = file?.mounts;
    if (file?.version !== 1 || typeof mounts !== 'object' || mounts === null || Array.isArray(mounts) || !Object.values(mounts).every(isStringArray)) {
      throw new AttachmentStoreError(this.#filePath, `The attachment store ${this.#filePath} is corrupt (unexpected shape); it was left as it is`);
    }
    return new Map(Object.entries(mounts as StoreFile['mounts']));
  }

  async #update<T>(change: (mounts: Map<string, string[]>) => { changed: boolean; result: T }): Promise<T> {
    return this.#mutex.runExclusive(async () => {
      const lock = { compromised: undefined as Error | undefined };
      const release = await this.#lock(lock);
      try {
        const mounts = await this.#read();
        const { changed, result } = change(mounts);
        if (changed) await this.#write({ version: 1, mounts: Object.fromEntries(mounts) }, lock);
        return result;
      } finally {
        await release().catch(() => undefined);
      }
    });
  }

  async #lock(state: { compromised: Error | undefined }): Promise<() => Promise<void>> {
    try {
      return await lockfile.lock(this.#filePath, {
        realpath: false,
        stale: STALE_LOCK_MS,
        retries: { retries: 2_000, minTimeout: 2, maxTimeout: 50, factor: 1.5 },
        // The default throws from a timer and ends the process; note it and refuse the write.
        onCompromised: (error) => {
          state.compromised = error;
        },
      });
    } catch (error) {
      throw new AttachmentStoreError(this.#filePath, `Cannot lock the attachment store ${this.#filePath}: ${(error as Error).message}`, { cause: error });
    }
  }

  async #write(file: StoreFile, lock: { compromised: Error | undefined }): Promise<void> {
    const directory = dirname(this.#filePath);
    const temporary = join(directory, `.${basename(this.#filePath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const handle = await fsp.open(temporary, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (lock.compromised !== undefined) throw lock.compromised;
      await fsp.rename(temporary, this.#filePath);
      // The rename itself must reach the disk too.
      const dir = await fsp.open(directory, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (error) {
      await fsp.rm(temporary, { force: true });
      throw new AttachmentStoreError(this.#filePath, `Cannot write the attachment store ${this.#filePath}: ${(error as Error).message}`, { cause: error });
    }
  }
}
