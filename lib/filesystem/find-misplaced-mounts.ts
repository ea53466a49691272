import type { MountEntry } from './file-system-probe.js';

/** What a mount that was just made should look like. */
export interface ExpectedMount {
  /** Where it should be: the canonical `<base>/<md5>`. */
  mountPoint: string;
  /** Whether an entry is this mount, wherever it is (e.g. `fuse.quobyte` with `quobyte@<export>`). */
  matches: (entry: MountEntry) => boolean;
}

/** The kernel reuses a freed mount id at once: on a busy host the id alone may name another mount. */
function identity(entry: MountEntry): string {
  return `${entry.mountId ?? ''}\0${entry.mountPoint}\0${entry.source}\0${entry.fsType}`;
}

/** Mounts in `after` that were not in `before` (by mount id, place, source and type). */
export function appearedMounts(before: readonly MountEntry[], after: readonly MountEntry[]): MountEntry[] {
  const known = new Set(before.map(identity));
  return after.filter((entry) => !known.has(identity(entry)));
}

/**
 * Mounts that appeared between two reads of the mount table, match `expected`, and are not at
 * its mount point: the client was given `<base>/<md5>`, and a link swapped in there sent it
 * elsewhere. Undo each with `umount -l --no-canonicalize <mountPoint>`.
 *
 * @param before The table read before mounting.
 * @param after The table read after mounting.
 * @returns The misplaced entries, in the kernel's order; empty when all is well.
 */
export function findMisplacedMounts(before: readonly MountEntry[], after: readonly MountEntry[], expected: ExpectedMount): MountEntry[] {
  return appearedMounts(before, after).filter((entry) => entry.mountPoint !== expected.mountPoint && expected.matches(entry));
}
