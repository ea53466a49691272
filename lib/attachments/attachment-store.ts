/**
 * Which guests use which mount point, so a shared mount is unmounted only when its last user
 * goes. An attachment id is `<instance uuid>/<volume id, else serial, else name>`.
 *
 * @module
 */
import type { MountLock } from '../locks/mount-lock.js';

/** A snapshot of the store: mount path → attachment ids. */
export type AttachmentTable = ReadonlyMap<string, readonly string[]>;

/**
 * Per mount point, the set of attachment ids. Implementations must make each method atomic with
 * respect to the others (the drivers also serialise calls per mount point).
 */
export interface AttachmentStore {
  /**
   * Whether this attachment is recorded: the fast path of a connect that changes nothing. Takes
   * no lock and writes nothing.
   */
  has(mountPath: string, attachmentId: string): Promise<boolean>;
  /** Adds an attachment (adding one already there changes nothing). Resolves to the count after. */
  add(mountPath: string, attachmentId: string): Promise<number>;
  /** Removes an attachment (removing one not there changes nothing). Resolves to the count left. */
  remove(mountPath: string, attachmentId: string): Promise<number>;
  /** The attachments on one mount point. */
  list(mountPath: string): Promise<readonly string[]>;
  /** Every mount point with at least one attachment. */
  entries(): Promise<AttachmentTable>;
  /** Replaces the whole store (used to rebuild it from the guests libvirt has defined). */
  replaceAll(table: AttachmentTable): Promise<void>;
  /**
   * The lock per mount point shared by every user of this store (every process, for a durable
   * store). A driver takes it around observe → mount → add and remove → unmount; a store without
   * one gets a lock local to the driver (see {@link defaultMountLockFor}).
   */
  readonly mountLock?: MountLock;
}
