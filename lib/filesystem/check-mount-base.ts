/**
 * The mount base must be a place only root (and the agent) can change: otherwise another user
 * plants or swaps `<base>/<md5>` for a link, and a mount or unmount run as root lands anywhere
 * (CVE-2017-1002101 and CVE-2021-25741 are this bug in Kubernetes).
 *
 * @module
 */
import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, sep } from 'node:path';
import { InsecureMountBaseError } from '../errors.js';

/** Who besides root may own the base, its parents and the entries under it. */
export interface MountBaseOptions {
  /** The agent's uid, when the agent (not root) owns the base. Without it, only root may. */
  agentUid?: number;
}

/** Whether `uid` is root or the agent. */
export function isTrustedOwner(uid: number, options: MountBaseOptions): boolean {
  return uid === 0 || uid === options.agentUid;
}

const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

/**
 * Checks the mount base and resolves it, per operation (never cached: a base re-pointed after
 * the first connect is seen at the next one). The base must not be a symbolic link; it and
 * every directory above its canonical path must be owned by root or the agent and not be
 * writable by group or others, unless sticky (as `/tmp` is: nobody else can then rename or
 * remove what root or the agent owns there; {@link ensureMountDirectory} checks the entry).
 *
 * @returns The canonical path of the base, to build mount paths from and compare with the
 * mount table.
 * @throws TypeError when `path` is not absolute.
 * @throws {@link InsecureMountBaseError} (`ERR_INSECURE_MOUNT_BASE`) when it is a link, missing,
 * or can be changed by someone else.
 */
export async function checkMountBase(path: string, options: MountBaseOptions = {}): Promise<string> {
  if (!isAbsolute(path)) throw new TypeError(`Expected an absolute mount base, got ${JSON.stringify(path)}`);
  let canonical: string;
  try {
    if ((await lstat(path)).isSymbolicLink()) throw new InsecureMountBaseError(path, `The mount base ${path} is a symbolic link`);
    canonical = await realpath(path);
  } catch (error) {
    if (error instanceof InsecureMountBaseError) throw error;
    throw new InsecureMountBaseError(path, `The mount base ${path} cannot be checked: ${(error as Error).message}`, { cause: error });
  }
  const parts = canonical.split(sep).filter((part) => part !== '');
  for (let depth = 0; depth <= parts.length; depth += 1) {
    const directory = `${sep}${parts.slice(0, depth).join(sep)}`;
    const stat = await lstat(directory);
    const why = !stat.isDirectory()
      ? 'is not a directory'
      : !isTrustedOwner(stat.uid, options)
        ? `is owned by uid ${stat.uid}`
        : (stat.mode & GROUP_OR_OTHER_WRITE) !== 0 && (stat.mode & STICKY) === 0
          ? `is writable by group or others (mode ${(stat.mode & 0o7777).toString(8)})`
          : undefined;
    if (why !== undefined) throw new InsecureMountBaseError(path, `The mount base ${path} is not safe: ${directory} ${why}`);
  }
  return canonical;
}
