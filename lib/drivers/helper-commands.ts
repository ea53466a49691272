import type { Command } from '../commands/command-runner.js';

/** The three acts a driver hands to `libvirt-volume-helper` for one export. */
export interface HelperCommands {
  /** `<prefix> mount <export>`: creates `<base>/<md5>` and mounts the export there. */
  mount: Command;
  /** `<prefix> umount <export> [--lazy]`: unmounts it and removes the empty directory. */
  unmount(lazy: boolean): Command;
  /** `<prefix> abort <export>`: aborts the FUSE connection of a hung mount nobody has files open on (the helper, as root, looks). */
  abort: Command;
  /** `<prefix> abort <export> --force`: aborts it even while files are open (a deliberate repair). */
  forceAbort: Command;
}

/**
 * Exit statuses of `libvirt-volume-helper` (docs/operations.md): 0 done, 1 the mount or unmount
 * command failed, 2 usage or invalid export, 3 refused (insecure config, base or directory, or a
 * foreign mount there), 4 nothing to do (already mounted; nothing of ours mounted), 32 `umount`
 * failed (busy when stderr says "target is busy", as `umount` itself reports it).
 */
export const HELPER_EXIT = { ok: 0, failed: 1, usage: 2, refused: 3, nothingToDo: 4, umountFailed: 32 } as const;

/**
 * The argv that has the privileged helper act on an export, for a driver option
 * `privilegedHelper` such as `['sudo', '-n', '/usr/local/bin/libvirt-volume-helper']`. The
 * helper takes no path: it checks the export and computes the mount path itself.
 *
 * @param prefix How to run the helper: the program first, e.g. sudo and its options.
 * @param exportName The normalised export (`host[:port]/volume`).
 * @throws TypeError when `prefix` is empty or not strings.
 */
export function helperCommands(prefix: readonly string[], exportName: string): HelperCommands {
  const [file, ...head] = prefix;
  if (file === undefined || file === '' || !prefix.every((part) => typeof part === 'string')) {
    throw new TypeError(`Expected privilegedHelper to be a non-empty array of strings, got ${JSON.stringify(prefix)}`);
  }
  const command = (...args: string[]): Command => ({ file, args: [...head, ...args] });
  return {
    mount: command('mount', exportName),
    unmount: (lazy) => (lazy ? command('umount', exportName, '--lazy') : command('umount', exportName)),
    abort: command('abort', exportName),
    forceAbort: command('abort', exportName, '--force'),
  };
}
