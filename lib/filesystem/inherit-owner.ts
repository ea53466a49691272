import { lchownSync } from 'node:fs';

/** A uid and gid, as in `fs.Stats`. */
export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Gives a file or folder this process just created the owner and group of the folder it lives in,
 * when this process is root: a root CLI must not leave `root:root` entries in an agent's store that
 * the agent then cannot read or remove (issue 9, point 5). Other users cannot chown, and need not.
 */
export function inheritOwner(path: string, owner: Owner): void {
  if (process.getuid?.() !== 0 || (owner.uid === 0 && owner.gid === 0)) return;
  lchownSync(path, owner.uid, owner.gid);
}
