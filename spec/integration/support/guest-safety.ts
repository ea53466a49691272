/**
 * For guest-safety tests on real FUSE mounts: a share that can be made slow on `stat`, a
 * process that plays a running guest on a disk image, and a look at this process's threads.
 * See ../fixtures/README.md for the fixtures themselves.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FIXTURE_BIN, type RealHost } from './real-host.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Mounts a stand-in share at `<mountBase>/<name>` directly, without the driver. `attrTimeoutS`
 * 0 (the default here) makes every `stat` a request to the client, so a stop or a slow switch
 * shows at once instead of after the kernel's 1 s attribute cache.
 */
export function mountStandIn(host: RealHost, volume: string, name: string, options: { attrTimeoutS?: number } = {}): string {
  const mountPath = join(host.mountBase, name);
  mkdirSync(mountPath, { recursive: true });
  const env = { ...host.env, QUOBYTE_STANDIN_ATTR_TIMEOUT: String(options.attrTimeoutS ?? 0) };
  const result = spawnSync(join(FIXTURE_BIN, 'mount.quobyte'), [volume, mountPath], { env, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`mount.quobyte ${volume} ${mountPath} failed (${result.status ?? result.signal}): ${result.stderr}`);
  return mountPath;
}

/**
 * Makes every `stat` (FUSE getattr) on the share mounted at `mountPath` take `ms` more; 0 makes
 * it fast again. The client reads the switch at each call, so it works on a live mount. With
 * the kernel's attribute cache on (the driver's mounts), only a `stat` past the cache waits.
 */
export function setSlowStat(host: RealHost, mountPath: string, ms: number): void {
  writeFileSync(join(host.state, `${basename(mountPath)}.slow_stat_ms`), String(ms));
}

/** One step of a {@link GuestProcess}, as its log line says. */
export interface GuestStep {
  t: number;
  op: 'write' | 'fsync' | 'read' | 'verify';
  ok: boolean;
  errno?: string;
  ms: number;
}

/** A running guest: holds a disk image open, writes and reads a block every 50 ms. */
export class GuestProcess {
  private constructor(
    readonly process: ChildProcess,
    readonly pid: number,
    readonly log: string,
  ) {}

  /**
   * Starts a guest on an existing image, and resolves once it holds it open.
   *
   * @throws When it does not start within 10 s.
   */
  static async start(image: string, log: string, options: { intervalMs?: number } = {}): Promise<GuestProcess> {
    const child = spawn(join(FIXTURE_BIN, 'fake-guest'), [image, log, '--interval-ms', String(options.intervalMs ?? 50)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const pid = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`fake-guest did not start: ${stderr}`)); }, 10_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const match = /READY (\d+)/.exec(chunk);
        if (match !== null) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`fake-guest exited with ${code}: ${stderr}`));
      });
    });
    return new GuestProcess(child, pid, log);
  }

  /** Every step logged so far. */
  steps(): GuestStep[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8').split('\n').filter((line) => line.startsWith('{"t"')).map((line) => JSON.parse(line) as GuestStep);
  }

  /** The steps that failed with an I/O error. */
  errors(): GuestStep[] {
    return this.steps().filter((step) => !step.ok);
  }

  /**
   * Waits until at least `count` steps more than now are logged.
   *
   * @throws When they do not come within `timeoutMs` (the guest is stalled).
   */
  async waitForSteps(count: number, timeoutMs = 10_000): Promise<void> {
    const target = this.steps().length + count;
    const until = performance.now() + timeoutMs;
    while (this.steps().length < target) {
      if (performance.now() > until) throw new Error(`guest made ${this.steps().length} of ${target} steps in ${timeoutMs} ms`);
      await sleep(25);
    }
  }

  /** Ends the guest (SIGTERM, then SIGKILL); a guest stuck on a hung mount goes once it is let go. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => { resolve(); }));
    this.process.kill('SIGTERM');
    if (await Promise.race([exited.then(() => true), sleep(2_000).then(() => false)])) return;
    this.process.kill('SIGKILL');
    await Promise.race([exited, sleep(2_000)]);
  }
}

/**
 * A share with a 1 MiB image on it and a guest doing I/O on that image: the scene of a
 * guest-safety test. Make it slow with {@link setSlowStat}, stop it with
 * `host.signalClient(mountPath, 'SIGSTOP')`; stop the guest before `host.cleanUp()`.
 */
export async function startShareWithGuest(host: RealHost, name: string, options: { volume?: string; imageBytes?: number; attrTimeoutS?: number } = {}): Promise<{ mountPath: string; image: string; guest: GuestProcess }> {
  const mountPath = mountStandIn(host, options.volume ?? `registry:7861/${name}`, name, options.attrTimeoutS === undefined ? {} : { attrTimeoutS: options.attrTimeoutS });
  const image = join(mountPath, 'volume-1');
  writeFileSync(image, Buffer.alloc(options.imageBytes ?? 1 << 20));
  const guest = await GuestProcess.start(image, join(host.state, `${name}.guest.log`));
  return { mountPath, image, guest };
}

/** Threads of this process blocked in a FUSE request (their kernel wait channel says so). */
export function threadsBlockedInFuse(): string[] {
  return readdirSync('/proc/self/task').filter((tid) => {
    try {
      return /fuse|request_wait_answer/.test(readFileSync(`/proc/self/task/${tid}/wchan`, 'utf8'));
    } catch {
      return false;
    }
  });
}

/** Threads of this process. */
export function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

/** PIDs of this process's children, zombies included. */
export function childPids(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(' ').filter((pid) => pid !== '').map(Number);
    } catch {
      return [];
    }
  });
}

/** One-letter state of a process (`S`, `D`, `Z`, ...), or `undefined` when it is gone. */
/** Whether every thread of a process is stopped (`T`): a `SIGSTOP` has taken effect, not just been sent. */
export function allThreadsStopped(pid: number): boolean {
  try {
    const threads = readdirSync(`/proc/${pid}/task`);
    return threads.length > 0 && threads.every((tid) => processState(Number(tid), pid) === 'T');
  } catch {
    return false;
  }
}

export function processState(pid: number, of?: number): string | undefined {
  try {
    const stat = readFileSync(of === undefined ? `/proc/${pid}/stat` : `/proc/${of}/task/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
