/**
 * After each mount command: did the mount land at `<base>/<md5>`? The directory is checked
 * without following links just before, but the client is handed a path, and a link swapped in
 * between (a race won) sends the mount anywhere. Found from the mount table and undone.
 *
 * @module
 */
import type { CommandRunner } from '../commands/command-runner.js';
import { InsecureMountBaseError } from '../errors.js';
import type { FileSystemProbe, MountEntry } from '../filesystem/file-system-probe.js';
import { appearedMounts, findMisplacedMounts } from '../filesystem/find-misplaced-mounts.js';
import type { MountInspector } from './mount-inspector.js';
import type { ResolvedVolume } from './resolved-volume.js';

/** What the guard needs. */
export interface MisplacedMountContext {
  volume: ResolvedVolume;
  probe: FileSystemProbe;
  runner: CommandRunner;
  inspector: MountInspector;
  commandTimeoutMs: number;
}

/** The export as the source: itself (`host:/path`), or after the client's prefix (`quobyte@<export>`). */
function sourceNames(source: string, exportName: string): boolean {
  return source === exportName || source.endsWith(`@${exportName}`);
}

/**
 * Compares the mount table with the one read before the mount. When no new mount appeared at
 * the mount path but one of this backend's type, with the export as its source, appeared
 * elsewhere, that one is detached (`umount -l --no-canonicalize <where>`: the kernel's own
 * path, never resolved through a link) and the connect refused. Only looked for when the mount
 * is missing where it should be, so a mount of the same export on another base at the same
 * moment is never touched.
 *
 * @param before The mount table read just before the mount command.
 * @throws {@link InsecureMountBaseError} the mount landed elsewhere (it was detached again).
 */
export async function undoMisplacedMounts(context: MisplacedMountContext, before: readonly MountEntry[]): Promise<void> {
  const { volume, probe, runner, inspector } = context;
  const [after, mountPoint] = await Promise.all([probe.listMounts(), inspector.canonicalMountPath(volume.mountPath)]);
  const appeared = appearedMounts(before, after);
  if (appeared.some((entry) => entry.mountPoint === mountPoint)) return;
  const misplaced = findMisplacedMounts(before, after, { mountPoint, matches: (entry) => inspector.isOwnMount(entry) && sourceNames(entry.source, volume.export) });
  if (misplaced.length === 0) return;
  const undone: string[] = [];
  for (const entry of misplaced.reverse()) {
    try {
      await runner.run({ file: 'umount', args: ['-l', '--no-canonicalize', entry.mountPoint] }, { timeoutMs: context.commandTimeoutMs, env: { LC_ALL: 'C' } });
      undone.push(entry.mountPoint);
    } catch {
      // Reported below as still there.
    }
  }
  const where = misplaced.map((entry) => `${entry.mountPoint}${undone.includes(entry.mountPoint) ? '' : ' (still mounted)'}`).join(', ');
  throw new InsecureMountBaseError(volume.mountPath, `The mount of ${volume.export} landed at ${where} instead of ${mountPoint} (a link was swapped in); it was detached again`);
}
