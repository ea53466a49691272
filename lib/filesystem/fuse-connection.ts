/**
 * FUSE connections as the kernel names them: the `fusectl` directory of a mount is the minor of
 * its anonymous device.
 *
 * @module
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { FuseAbortResult, MountEntry } from './file-system-probe.js';

/** Where `fusectl` is mounted; `<minor>/abort` there aborts one connection. */
export const FUSECTL_PATH = '/sys/fs/fuse/connections';

/** Whether a mount-table entry is a FUSE mount (only those have a connection to abort). */
export function isFuseMount(entry: MountEntry): boolean {
  return entry.fsType === 'fuse' || entry.fsType.startsWith('fuse.');
}

/** The minor of a FUSE mount's anonymous device (`0:57` → 57), its `fusectl` connection id. */
export function fuseMinor(entry: MountEntry): number | undefined {
  if (!isFuseMount(entry)) return undefined;
  const match = /^0:(\d+)$/.exec(entry.device ?? '');
  return match === null ? undefined : Number(match[1]);
}

/**
 * Aborts the FUSE connection with this minor under `fusectl` (root): every request stuck on it
 * fails at once with `ECONNABORTED`.
 * @throws Rejects with the errno code when the abort file exists but cannot be written.
 */
export function abortFuseConnection(fusectl: string, minor: number): Promise<FuseAbortResult> {
  try {
    // Synchronous on purpose: this sysfs write never blocks, and the I/O threads it would
    // otherwise queue for may be the very ones the hung mount holds.
    writeFileSync(`${fusectl}/${minor}/abort`, '1');
    return Promise.resolve('aborted');
  } catch (caught) {
    const error = caught as NodeJS.ErrnoException;
    if (error.code !== 'ENOENT') return Promise.reject(error);
    // No such connection, or fusectl is not mounted at all (its directory is then empty).
    let connections: string[] = [];
    try {
      connections = readdirSync(fusectl);
    } catch {
      // no directory: no fusectl
    }
    return Promise.resolve(connections.length === 0 ? 'no-fusectl' : 'no-connection');
  }
}

/**
 * How many requests the FUSE connection with this minor has sent to its client and not yet had
 * answered (`fusectl`'s `waiting`), or `undefined` when there is no such connection. Never
 * blocks. A hung client that was idle has 0 waiting until someone asks it something, so 0 does
 * not say a `stat` would answer.
 * @throws Rejects with the errno code when the file exists but cannot be read.
 */
export function readFuseWaiting(fusectl: string, minor: number): Promise<number | undefined> {
  try {
    return Promise.resolve(Number(readFileSync(`${fusectl}/${minor}/waiting`, 'utf8').trim()));
  } catch (caught) {
    const error = caught as NodeJS.ErrnoException;
    return error.code === 'ENOENT' ? Promise.resolve(undefined) : Promise.reject(error);
  }
}
