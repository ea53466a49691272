import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

/**
 * Whether `file` names a file that is there, as a shell looks for a program: a path with a `/`
 * as it is, a bare name in each folder of `pathList` (an empty entry is the current folder). A
 * folder that cannot be searched hides what it holds, as it does from `execvp`.
 */
export async function isProgramOnPath(file: string, pathList: string): Promise<boolean> {
  const candidates = file.includes('/') ? [file] : pathList.split(':').map((dir) => join(dir === '' ? '.' : dir, file));
  for (const candidate of candidates) {
    const stats = await fsp.stat(candidate).catch(() => undefined);
    if (stats?.isFile() === true) return true;
  }
  return false;
}
