/**
 * The whole mount table, for attacks whose promise is "nothing mounted or unmounted outside
 * the base": compare it before and after, not just the entries under one base.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseMountInfo } from '../../../lib/filesystem/parse-mount-info.js';

/**
 * The whole mount table as sorted `mountPoint fsType source` lines, less other sessions' scratch
 * mounts under the temporary directory (other test runs share this host). An attack here only
 * reaches its own scratch area or places outside the temporary directory.
 */
export function mountTable(ownRoot: string): string[] {
  const others = `${tmpdir()}/`;
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .filter((entry) => !entry.mountPoint.startsWith(others) || entry.mountPoint.startsWith(`${ownRoot}/`))
    .map((entry) => `${entry.mountPoint} ${entry.fsType} ${entry.source}`)
    .sort();
}

/** Lines added to and removed from a table. */
export function difference(after: readonly string[], before: readonly string[]): { added: string[]; removed: string[] } {
  return { added: after.filter((line) => !before.includes(line)), removed: before.filter((line) => !after.includes(line)) };
}
