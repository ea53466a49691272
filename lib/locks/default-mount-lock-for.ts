import type { AttachmentStore } from '../attachments/attachment-store.js';
import { MemoryMountLock } from './memory-mount-lock.js';
import type { MountLock } from './mount-lock.js';

/**
 * The lock a driver uses with `store`: the store's own `mountLock` (host-wide for a
 * `FileAttachmentStore`, so agents and the CLI exclude each other), else a new in-process
 * {@link MemoryMountLock}. Call it once, in the driver's constructor.
 */
export function defaultMountLockFor(store: AttachmentStore): MountLock {
  return store.mountLock ?? new MemoryMountLock();
}
