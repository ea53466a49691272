import { MemoryMountLock } from '../locks/memory-mount-lock.js';
import type { AttachmentStore, AttachmentTable } from './attachment-store.js';

/** An {@link AttachmentStore} held in memory: lost when the process exits. The default. */
export class MemoryAttachmentStore implements AttachmentStore {
  readonly #table = new Map<string, Set<string>>();
  /** A lock per mount point for every driver sharing this store, inside this process. */
  readonly mountLock: MemoryMountLock = new MemoryMountLock();

  async has(mountPath: string, attachmentId: string): Promise<boolean> {
    return Promise.resolve(this.#table.get(mountPath)?.has(attachmentId) === true);
  }

  async add(mountPath: string, attachmentId: string): Promise<number> {
    let ids = this.#table.get(mountPath);
    if (ids === undefined) {
      ids = new Set();
      this.#table.set(mountPath, ids);
    }
    ids.add(attachmentId);
    return Promise.resolve(ids.size);
  }

  async remove(mountPath: string, attachmentId: string): Promise<number> {
    const ids = this.#table.get(mountPath);
    if (ids === undefined) return Promise.resolve(0);
    ids.delete(attachmentId);
    if (ids.size === 0) this.#table.delete(mountPath);
    return Promise.resolve(ids.size);
  }

  async list(mountPath: string): Promise<readonly string[]> {
    return Promise.resolve([...(this.#table.get(mountPath) ?? [])]);
  }

  async entries(): Promise<AttachmentTable> {
    return Promise.resolve(new Map([...this.#table].map(([path, ids]) => [path, [...ids]])));
  }

  async replaceAll(table: AttachmentTable): Promise<void> {
    this.#table.clear();
    for (const [path, ids] of table) {
      if (ids.length > 0) this.#table.set(path, new Set(ids));
    }
    return Promise.resolve();
  }
}
