/**
 * The check `status` and `reconcile` make before they look: the base and the state file's
 * folder exist. A mistyped `--base` would otherwise look like a host with no mounts.
 *
 * @module
 */
import { dirname } from 'node:path';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';
import { CliNotFoundError } from './cli-exit.js';

/** Whether `path` is a directory (following links), as the driver's probe sees it. */
async function isDirectory(probe: FileSystemProbe, path: string): Promise<boolean> {
  return probe.stat(path, { timeoutMs: 5000 }).then((stat) => stat.isDirectory, () => false);
}

/**
 * Resolves when `base` and the folder of `statePath` are directories.
 * @throws {@link CliNotFoundError} `ERR_BASE_NOT_FOUND` or `ERR_STATE_DIR_NOT_FOUND` (exit status 4)
 */
export async function checkHostPaths(probe: FileSystemProbe, base: string, statePath: string): Promise<void> {
  if (!(await isDirectory(probe, base))) {
    throw new CliNotFoundError('ERR_BASE_NOT_FOUND', base, `The mount point base ${base} does not exist or is not a directory`);
  }
  if (!(await isDirectory(probe, dirname(statePath)))) {
    throw new CliNotFoundError('ERR_STATE_DIR_NOT_FOUND', statePath, `The folder of the attachment store ${statePath} does not exist`);
  }
}
