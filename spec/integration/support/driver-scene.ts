/**
 * For the guest-safety, host-wide, crash and state-file suites: a driver on a {@link RealHost}
 * that records the commands it runs, disk images written straight into the stand-in's backing
 * store (so a connect's image gate finds them), a local-read latency sampler, and child
 * processes running the library through tsx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionInfo } from '../../../lib/drivers/connection-info.js';
import { encodeFileName } from '../../../lib/filesystem/file-name.js';
import { parseMountInfo } from '../../../lib/filesystem/parse-mount-info.js';
import { driverFor, type CallLog, type DriverChoice, type DriverUnderTest } from './agent-driver.js';
import { RealHost, ensureFuseControl, requireRealHost } from './real-host.js';
import { RecordingRunner } from './recording-runner.js';

/** The worktree: child processes run from here so `--import tsx` finds tsx. */
export const WORKTREE = fileURLToPath(new URL('../../../', import.meta.url));
/** The store every process on a base shares by default. */
export const STATE_FILE_NAME = '.libvirt-volume-attachments.json';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds. @throws when it does not within `ms`. */
export async function eventually(check: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const until = performance.now() + ms;
  while (!check()) {
    if (performance.now() > until) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(25);
  }
}

export { RecordingRunner };

/** Connection info for a Quobyte export and image. */
export function ci(exportName: string, name = 'volume-1'): ConnectionInfo {
  return { driver_volume_type: 'quobyte', data: { export: exportName, name } };
}

/** A guest by number: a valid UUID. */
export function guest(n: number): { uuid: string } {
  return { uuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` };
}

/** Writes a raw image into the stand-in's backing folder of an export, before any mount. */
export function writeBackingImage(host: RealHost, exportName: string, name = 'volume-1', bytes = 1 << 20): string {
  const folder = join(host.backing, exportName.replace(/[/:,]/g, '_'));
  mkdirSync(folder, { recursive: true });
  const path = join(folder, name);
  writeFileSync(path, Buffer.alloc(bytes));
  return path;
}

/**
 * A driver with the default (host-wide, file) store of its base, recording its commands: in
 * this process, or as the unprivileged agent in the agent pass (support/agent-driver.ts).
 */
export function makeDriver(host: RealHost, options: DriverChoice = {}, env: Record<string, string> = {}): { driver: DriverUnderTest; runner: CallLog } {
  return driverFor(host, options, env);
}

/** Reads a small local file every 20 ms until stopped; resolves to the slowest read in ms. */
export function sampleLocalReads(file: string): { stop: () => Promise<number>; slowest: () => number } {
  writeFileSync(file, 'local');
  const state = { running: true, slowest: 0 };
  const loop = (async () => {
    while (state.running) {
      const started = performance.now();
      await readFile(file);
      state.slowest = Math.max(state.slowest, performance.now() - started);
      await sleep(20);
    }
  })();
  return { stop: async () => { state.running = false; await loop; return state.slowest; }, slowest: () => state.slowest };
}

/** Mount points under a base, each with how many layers are mounted there. */
export function mountLayers(base: string): Map<string, number> {
  const layers = new Map<string, number>();
  for (const entry of parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))) {
    if (entry.mountPoint.startsWith(`${base}/`)) layers.set(entry.mountPoint, (layers.get(entry.mountPoint) ?? 0) + 1);
  }
  return layers;
}

/** The records of a store folder: mount path → attachment id → identity of its file (inode and ctime). */
export function storeRecords(storeFolder: string, mountPaths: readonly string[]): Map<string, Map<string, string>> {
  const records = new Map<string, Map<string, string>>();
  for (const mountPath of mountPaths) {
    const folder = join(storeFolder, encodeFileName(mountPath) ?? '');
    const ids = new Map<string, string>();
    let names: string[] = [];
    try {
      names = readdirSync(folder);
    } catch {
      // no folder: no attachment
    }
    for (const name of names) {
      try {
        const stat = statSync(join(folder, name), { bigint: true });
        ids.set(name, `${stat.ino}:${stat.ctimeNs}`);
      } catch {
        // removed in between
      }
    }
    records.set(mountPath, ids);
  }
  return records;
}

/** A child process running a script of the library through tsx, from the worktree. */
export function spawnTsx(script: string, args: readonly string[], env: Record<string, string>, options: { detached?: boolean; uid?: number; gid?: number } = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: WORKTREE,
    env: { HOME: '/tmp', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...options,
  });
}

/** SIGKILL to the process group of a child spawned `detached` (its sudo and helper children too), if any is left. */
export function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** Collects a child's stdout and stderr and resolves with them and its exit code. */
export function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  return new Promise((resolve) => child.on('close', (code, signal) => { resolve({ code, signal, stdout, stderr }); }));
}

/**
 * The mocha hooks of a real-mount suite: skip (or fail in CI) without a real host, a fresh
 * {@link RealHost} per test with `setup` run on it, cleaned up after. Resolves the current host.
 */
export function useRealHost(setup: (host: RealHost) => void = () => undefined): () => RealHost {
  let host: RealHost | undefined;
  before(function () {
    requireRealHost(this);
    ensureFuseControl();
  });
  beforeEach(() => {
    host = new RealHost();
    setup(host);
  });
  afterEach(() => {
    host?.cleanUp();
  });
  return () => host!;
}
