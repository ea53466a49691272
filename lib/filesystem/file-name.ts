/**
 * A string as one file name and back, for the attachment store and the mount locks: readable
 * (`/var/lib/nova/mnt/ab` is `%2Fvar%2Flib%2Fnova%2Fmnt%2Fab`), never `.`/`..` or a hidden name
 * (those are the store's own), and one canonical name per string so two processes never pick two.
 *
 * @module
 */

/** Room left in the 255-byte name limit for a suffix such as `.lock.takeover`. */
const MAX_ENCODED_LENGTH = 230;

/** The file name for `value`, or `undefined` when it cannot have one (empty, too long, a lone surrogate). */
export function encodeFileName(value: string): string | undefined {
  if (value === '') return undefined;
  let name: string;
  try {
    name = encodeURIComponent(value);
  } catch {
    return undefined;
  }
  // encodeURIComponent leaves `.` alone; a leading one would make `.`, `..` or a hidden name.
  if (name.startsWith('.')) name = `%2E${name.slice(1)}`;
  return name.length <= MAX_ENCODED_LENGTH ? name : undefined;
}

/** The string a name written by `encodeFileName` stands for, or `undefined` for any other name. */
export function decodeFileName(name: string): string | undefined {
  let value: string;
  try {
    value = decodeURIComponent(name);
  } catch {
    return undefined;
  }
  return encodeFileName(value) === name ? value : undefined;
}
