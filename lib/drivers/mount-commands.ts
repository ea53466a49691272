/**
 * The commands one export is mounted and unmounted with: the backend's own mount command,
 * wrapped in `systemd-run --scope` where systemd runs, and `umount --no-canonicalize`.
 *
 * @module
 */
import type { Command } from '../commands/command-runner.js';
import type { MountEntry } from '../filesystem/file-system-probe.js';
import type { MountCommands } from '../plans/plan-step.js';
import { helperCommands } from './helper-commands.js';

/** The commands for one mount path. */
export function mountCommands(mount: Command, mountPath: string, systemd: boolean): MountCommands {
  // A FUSE client forked by the agent lives in the agent's cgroup, and systemd kills it when
  // the agent's unit stops or restarts, leaving a dead mount (Nova bug 1530866). A transient
  // scope of its own keeps it alive. No `--user` (Nova bug 1756823).
  return {
    mount: systemd ? { file: 'systemd-run', args: ['--scope', mount.file, ...mount.args] } : mount,
    // --no-canonicalize: the path is used as it is, never resolved through a link swapped in
    // (as the privileged helper does): `umount` would otherwise unmount wherever it leads.
    unmount: (lazy) => ({ file: 'umount', args: lazy ? ['-l', '--no-canonicalize', mountPath] : ['--no-canonicalize', mountPath] }),
  };
}

/**
 * The commands that release a mount found in the table (reconciliation only unmounts, so no
 * mount command is needed). Through the privileged helper, the export is the entry's source
 * (`quobyte@<export>`): the helper takes no path.
 */
export function releaseCommands(mountPath: string, entry: MountEntry, helper: readonly string[] | undefined): MountCommands {
  const exportName = entry.source.replace(/^quobyte@/, '');
  if (helper !== undefined) return { ...helperCommands(helper, exportName), managesDirectories: true };
  return mountCommands({ file: 'mount.unused', args: [] }, mountPath, false);
}
