import { lstat, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InsecureMountBaseError } from '../errors.js';
import { isTrustedOwner, type MountBaseOptions } from './check-mount-base.js';

/**
 * Creates `<base>/<name>` (mode 0755) unless it is there, without following a link, and checks
 * that what is there now is a real directory owned by root or the agent, directly under `base`.
 * Call it with the canonical base {@link checkMountBase} returned, and only while nothing is
 * mounted at the directory (a hung mount would block the checks).
 *
 * @returns `<base>/<name>`.
 * @throws TypeError when `name` is not one path component.
 * @throws {@link InsecureMountBaseError} when the entry is a link, not a directory, owned by
 * someone else, or not under `base` (the base was swapped).
 */
export async function ensureMountDirectory(base: string, name: string, options: MountBaseOptions = {}): Promise<string> {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new TypeError(`Expected one path component, got ${JSON.stringify(name)}`);
  }
  const path = join(base, name);
  try {
    // mkdir(2) never follows a link in its last component: EEXIST, and lstat tells what is there.
    await mkdir(path, { mode: 0o755 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new InsecureMountBaseError(path, `The mount directory ${path} cannot be created: ${(error as Error).message}`, { cause: error });
    }
  }
  let entry: Awaited<ReturnType<typeof lstat>>;
  try {
    entry = await lstat(path);
  } catch (error) {
    // It was there a moment ago (EEXIST): someone else is changing the base right now.
    throw new InsecureMountBaseError(path, `The mount directory ${path} changed while it was checked: ${(error as Error).message}`, { cause: error });
  }
  const why = entry.isSymbolicLink()
    ? 'is a symbolic link'
    : !entry.isDirectory()
      ? 'is not a directory'
      : !isTrustedOwner(entry.uid, options)
        ? `is owned by uid ${entry.uid}`
        : undefined;
  if (why !== undefined) throw new InsecureMountBaseError(path, `The mount directory ${path} ${why}; refusing to mount there`);
  const [parent, expected] = await Promise.all([stat(join(path, '..')), lstat(base)]);
  if (parent.dev !== expected.dev || parent.ino !== expected.ino) {
    throw new InsecureMountBaseError(path, `The mount directory ${path} is not directly under ${base}; refusing to mount there`);
  }
  return path;
}
