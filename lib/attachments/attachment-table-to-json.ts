/**
 * {@link AttachmentTable} as plain data: `JSON.stringify` of a `Map` prints `{}`.
 *
 * @module
 */
import type { AttachmentTable } from './attachment-store.js';

/** An {@link AttachmentTable} as a plain object: mount path → attachment ids, both sorted. */
export type AttachmentTableJSON = Record<string, string[]>;

/**
 * Copies a table into a plain object that `JSON.stringify` prints as it is, with the mount
 * paths in sorted order and each list of attachment ids sorted, so two snapshots of the same
 * state print the same text. The object has no prototype, so a mount path named `__proto__`
 * is a key like any other.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(attachmentTableToJSON(await driver.listAttachments())));
 * // {"/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6":["0cb3…/vol-1"]}
 * ```
 */
export function attachmentTableToJSON(table: AttachmentTable): AttachmentTableJSON {
  const json = Object.create(null) as AttachmentTableJSON;
  for (const mountPath of [...table.keys()].sort()) {
    json[mountPath] = [...(table.get(mountPath) ?? [])].sort();
  }
  return json;
}
