/**
 * Who uses a mount, read from `/proc` alone: the links in `/proc/<pid>/fd`, `cwd` and `root`
 * name the path the kernel keeps for each open file, and reading them never reaches the file
 * system behind it, so this answers on a hung FUSE mount too (a `stat` there would hang).
 *
 * @module
 */
import { promises as fsp } from 'node:fs';

/** Whether `target` is `path` or lies below it. */
function isUnder(target: string, path: string): boolean {
  return target === path || target.startsWith(path.endsWith('/') ? path : `${path}/`);
}

/** Whether one process holds a file, its working directory or its root under `path`. */
async function holds(pid: string, path: string): Promise<boolean> {
  const links = ['cwd', 'root'].map((name) => `/proc/${pid}/${name}`);
  try {
    for (const fd of await fsp.readdir(`/proc/${pid}/fd`)) links.push(`/proc/${pid}/fd/${fd}`);
  } catch {
    // Gone, or not ours to read: its links below fail the same way.
  }
  for (const link of links) {
    const target = await fsp.readlink(link).catch(() => undefined);
    if (target !== undefined && isUnder(target, path)) return true;
  }
  return false;
}

/**
 * How many processes hold files open (or their working directory) under `path`. Processes
 * whose `/proc` entries this user cannot read are not counted.
 * This process is not counted: its own probes are not users.
 */
export async function countOpenFilesUnder(path: string): Promise<number> {
  const pids = (await fsp.readdir('/proc')).filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  let count = 0;
  // A few at a time: thousands of processes must not flood libuv's queue.
  for (let index = 0; index < pids.length; index += 32) {
    const batch = await Promise.all(pids.slice(index, index + 32).map((pid) => holds(pid, path)));
    count += batch.filter(Boolean).length;
  }
  return count;
}
