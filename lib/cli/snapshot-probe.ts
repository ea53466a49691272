/**
 * The probe of `libvirt-volume status`: one contained look at what the command asks first. A
 * single `/bin/sh` runs `realpath` of the base and then one `stat` over the base, the state
 * file's folder and every mount point directly under the base, and is killed (its whole process
 * group) at a short deadline. What it answered is served from that snapshot; anything else, and
 * everything when it did not finish in time (a hung mount among them), goes to the Node probe
 * child as usual, which then starts. On a healthy host `status` so pays one `exec` of `stat` instead of
 * a second Node start. The mount table read then serves the whole command, as one moment.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import type { MountEntry, PathStat, ProbeOptions } from '../filesystem/file-system-probe.js';
import { NodeFileSystemProbe } from '../filesystem/node-file-system-probe.js';

/** How long the snapshot may take before its paths go to the probe child instead. */
const SNAPSHOT_DEADLINE_MS = 500;
const S_IFMT = 0o170000;
/**
 * The real path of `$1` (the shell's own `cd -P` and `pwd -P`: no `exec`), then one `stat` of the
 * rest: device, raw mode (hex), size, owner, group, inode, name.
 */
const SCRIPT = 'cd -P "$1" 2>/dev/null && pwd -P; shift; exec stat -L --printf "%d %f %s %u %g %i %n\\n" -- "$@"';

/** See the module notes. */
export class SnapshotProbe extends NodeFileSystemProbe {
  readonly #stats = new Map<string, PathStat>();
  readonly #realPaths = new Map<string, string>();
  /** The mount table as the snapshot read it: one moment, for every row. */
  #mounts: MountEntry[] | undefined;

  /**
   * Takes the snapshot of `base` (its real path and `stat`), the folder of `statePath` and the
   * mount points directly under `base` in the mount table. Never rejects: what it could not
   * answer is asked of the probe child later.
   */
  async snapshot(base: string, statePath: string, deadlineMs = SNAPSHOT_DEADLINE_MS): Promise<void> {
    const trimmed = base.replace(/(?<=.)\/+$/, '');
    this.#mounts = await super.listMounts();
    const mounts = this.#mounts.map((entry) => entry.mountPoint).filter((mountPoint) => dirname(mountPoint) === trimmed);
    const paths = [...new Set([trimmed, dirname(statePath), ...mounts])];
    // One line per answer: a path that a line cannot carry is left to the probe child.
    if ([trimmed, ...paths].some((path) => !path.startsWith('/') || /[\n\r]/.test(path))) return;
    const output = await runShell(['-c', SCRIPT, 'sh', trimmed, ...paths], deadlineMs);
    for (const line of output?.split('\n') ?? []) {
      if (line.startsWith('/')) {
        this.#realPaths.set(trimmed, line);
        continue;
      }
      const match = /^(\d+) ([0-9a-f]+) (\d+) (\d+) (\d+) (\d+) (\/.*)$/.exec(line);
      if (match === null) continue;
      const [, dev = '', mode = '', size = '', uid = '', gid = '', ino = '', path = ''] = match;
      const bits = Number.parseInt(mode, 16);
      const type = bits & S_IFMT;
      this.#stats.set(path, { dev: Number(dev), mode: bits, size: Number(size), uid: Number(uid), gid: Number(gid), ino: Number(ino), isFile: type === 0o100000, isDirectory: type === 0o040000, isSymbolicLink: type === 0o120000 });
    }
  }

  override async listMounts(): Promise<MountEntry[]> {
    return this.#mounts?.map((entry) => ({ ...entry })) ?? super.listMounts();
  }

  override async stat(path: string, options: ProbeOptions = {}): Promise<PathStat> {
    const known = options.fresh === true ? undefined : this.#stats.get(path);
    return known === undefined ? super.stat(path, options) : { ...known };
  }

  override async realPath(path: string, options: ProbeOptions = {}): Promise<string> {
    return this.#realPaths.get(path.replace(/(?<=.)\/+$/, '')) ?? super.realPath(path, options);
  }
}

/** Runs `/bin/sh` in a process group of its own, in the C locale; its stdout, or `undefined` past the deadline (the group is killed). */
function runShell(args: string[], deadlineMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', args, { stdio: ['ignore', 'pipe', 'ignore'], detached: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
      resolve(undefined);
    }, deadlineMs);
    child.once('error', () => { clearTimeout(timer); resolve(undefined); });
    // `stat` exits 1 when one path failed; the others were still answered.
    child.once('close', () => { clearTimeout(timer); resolve(stdout); });
  });
}
