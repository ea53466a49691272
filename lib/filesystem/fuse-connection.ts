/**
 * FUSE connections as the kernel names them: the `fusectl` directory of a mount is the minor of
 * its anonymous device.
 *
 * @module
 */
import type { MountEntry } from './file-system-probe.js';

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
