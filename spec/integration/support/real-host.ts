/**
 * The real host for integration tests: the stand-in Quobyte client first on PATH, a private
 * mount base, and clean-up of every mount and client process a test leaves behind.
 *
 * Needs root, /dev/fuse and Debian's python3-fusepy (and virsh for the XML suite). On a laptop
 * without them the suites skip with the reason; in CI (CI=true) a missing requirement fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecaCommandRunner } from '../../../lib/commands/execa-command-runner.js';
import { parseMountInfo } from '../../../lib/filesystem/parse-mount-info.js';

export const FIXTURE_BIN = fileURLToPath(new URL('../fixtures/bin', import.meta.url));

/** Why the real-mount suites cannot run here, or `undefined` when they can. */
export function missingRequirement(needs: { virsh?: boolean } = {}): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/fuse is not usable';
  }
  if (spawnSync('/usr/bin/python3', ['-c', 'import fusepy'], { stdio: 'ignore' }).status !== 0) {
    return 'python3-fusepy is not installed (apt-get install fuse3 python3-fusepy)';
  }
  if (needs.virsh === true && spawnSync('virsh', ['--version'], { stdio: 'ignore' }).status !== 0) {
    return 'virsh is not installed (apt-get install libvirt-clients)';
  }
  // The agent pass (LVD_IT_AGENT=unprivileged) runs the driver as nobody through sudo.
  if (process.env.LVD_IT_AGENT === 'unprivileged') {
    for (const tool of ['sudo', 'setpriv', 'visudo']) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) return `${tool} is not installed (the unprivileged-agent pass needs sudo, setpriv and visudo)`;
    }
  }
  return undefined;
}

/**
 * Skips the suite with the reason on a developer machine; fails it in CI, where a skip would
 * hide a missing install step.
 */
export function requireRealHost(context: Mocha.Context, needs: { virsh?: boolean } = {}): void {
  const missing = missingRequirement(needs);
  if (missing === undefined) return;
  if (process.env.CI === 'true') throw new Error(`Integration tests cannot run in CI: ${missing}`);
  console.warn(`      skipping real-mount tests: ${missing}`);
  context.skip();
}

/**
 * Mounts the `fusectl` file system where it is missing, as an operator would (docs/operations.md):
 * the driver needs it to abort hung FUSE connections.
 */
export function ensureFuseControl(): void {
  if (existsSync('/sys/fs/fuse/connections') && readFileSync('/proc/self/mountinfo', 'utf8').includes(' /sys/fs/fuse/connections ')) return;
  spawnSync('mount', ['-t', 'fusectl', 'fusectl', '/sys/fs/fuse/connections'], { stdio: 'ignore' });
}

/** A scratch area: mount base, stand-in backing store and state. */
export class RealHost {
  readonly root = mkdtempSync(join(tmpdir(), 'lvd-it-'));
  readonly mountBase = join(this.root, 'mnt');
  readonly backing = join(this.root, 'backing');
  readonly state = join(this.root, 'state');

  constructor() {
    for (const dir of [this.mountBase, this.backing, this.state]) mkdirSync(dir, { recursive: true });
  }

  /** Environment for the stand-in client. */
  get env(): Record<string, string> {
    return {
      PATH: `${FIXTURE_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      QUOBYTE_STANDIN_ROOT: this.backing,
      QUOBYTE_STANDIN_STATE: this.state,
    };
  }

  /** A real runner whose PATH finds the stand-in first. */
  runner(extraEnv: Record<string, string> = {}): ExecaCommandRunner {
    return new ExecaCommandRunner({ env: { ...this.env, ...extraEnv }, timeoutMs: 20_000 });
  }

  /** Mount-table entries under this host's mount base. */
  mounts(): ReturnType<typeof parseMountInfo> {
    return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((entry) => entry.mountPoint.startsWith(`${this.mountBase}/`) || entry.mountPoint === this.mountBase);
  }

  /** The argv of each stand-in invocation so far. */
  invocations(): string[][] {
    const log = join(this.state, 'invocations.log');
    if (!existsSync(log)) return [];
    return readFileSync(log, 'utf8').trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as string[]);
  }

  /** PID of the stand-in daemon serving a mount path. */
  clientPid(mountPath: string): number {
    const name = mountPath.slice(mountPath.lastIndexOf('/') + 1);
    return Number(readFileSync(join(this.state, `${name}.pid`), 'utf8').trim());
  }

  /** Clients a test stopped or killed: a replacement mount overwrites their pid file. */
  readonly #signalled = new Set<number>();

  /** Sends a signal to the daemon serving a mount path (SIGKILL: crash; SIGSTOP: hang). */
  signalClient(mountPath: string, signal: NodeJS.Signals): number {
    const pid = this.clientPid(mountPath);
    this.#signalled.add(pid);
    process.kill(pid, signal);
    return pid;
  }

  readonly #cleanUps: Array<() => void> = [];

  /** Runs `fn` first in {@link cleanUp} (an agent to stop, a sudoers drop-in to remove). */
  onCleanUp(fn: () => void): void {
    this.#cleanUps.push(fn);
  }

  /** Unmounts everything under the base, frees stopped clients, and removes the scratch area. */
  cleanUp(): void {
    for (const fn of this.#cleanUps.splice(0).reverse()) {
      try {
        fn();
      } catch (error) {
        console.warn(`      clean-up: ${(error as Error).message}`);
      }
    }
    const pids = new Set(this.#signalled);
    for (const file of existsSync(this.state) ? readdirSync(this.state) : []) {
      if (file.endsWith('.pid')) pids.add(Number(readFileSync(join(this.state, file), 'utf8').trim()));
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    for (const entry of this.mounts().reverse()) {
      spawnSync('umount', ['-l', entry.mountPoint], { stdio: 'ignore' });
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Whether a process is alive (a zombie nobody has reaped yet counts as dead). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** `pgrep -f` of a pattern: PIDs of matching processes. */
export function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter((line) => line !== '').map(Number);
  } catch {
    return [];
  }
}
