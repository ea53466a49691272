/**
 * `npm run bench [-- --quick]`: this library and Nova's own LibvirtQuobyteVolumeDriver, side by
 * side in one run, against the same stand-in Quobyte client (real FUSE mounts). Prints a table of
 * medians, p99s and ratios and writes bench/results.json. `--quick` is a smoke check for CI: few
 * iterations, nothing asserted about speed.
 *
 * Needs root and FUSE; installs Debian's python3-nova (and fuse3, python3-fusepy) when missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseMountInfo } from '../lib/filesystem/parse-mount-info.js';
import { formatTable, median, percentile, ratio, type BenchRow } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE_BIN = join(ROOT, 'spec/integration/fixtures/bin');
const NOVA_HARNESS = join(ROOT, 'bench/nova/nova_harness.py');
const MAKE_MOUNTS = join(ROOT, 'bench/nova/make_mounts.py');
const OURS_HARNESS = join(ROOT, 'bench/ours-harness.ts');
const PYTHON = '/usr/bin/python3';
/** The export both sides attach (the stand-in backs it with backing/registry_bench). */
const EXPORT = 'registry/bench';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = values.quick;
const plan = quick
  ? { warm: 50, novaWarm: 50, cold: 3, exports: 3, delayMs: 100, bigTable: 1_000, bigWarm: 10, novaBigWarm: 5,
      durableWarm: 20, newGuests: 5, recorded: 1_000, stallMountPoints: 5_000, startRounds: 3, cliMounts: 3 }
  : { warm: 2_000, novaWarm: 1_000, cold: 30, exports: 8, delayMs: 300, bigTable: 10_000, bigWarm: 500, novaBigWarm: 50,
      durableWarm: 500, newGuests: 100, recorded: 10_000, stallMountPoints: 200_000, startRounds: 11, cliMounts: 10 };

const benchStarted = performance.now();

function say(line: string): void {
  process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(0)} s] ${line}\n`);
}

function ensurePrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('the benchmark mounts for real: run it as root');
  const missing = [
    ['python3-nova', ['-c', 'import nova.virt.libvirt.volume.quobyte']],
    ['python3-fusepy', ['-c', 'import fusepy']],
  ].filter(([, args]) => spawnSync(PYTHON, args as string[], { stdio: 'ignore' }).status !== 0).map(([name]) => name as string);
  if (!existsSync('/usr/bin/fusermount3') && !existsSync('/bin/fusermount')) missing.push('fuse3');
  if (missing.length === 0) return;
  say(`Installing Debian packages the benchmark needs: ${missing.join(', ')} (apt-get)`);
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** A private scratch area for one harness run, so runs never share mounts or stand-in state. */
function scratch(): { base: string; env: NodeJS.ProcessEnv; cleanUp: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'lvd-bench-'));
  const base = join(root, 'mnt');
  mkdirSync(base);
  // As on a real share, the volume's image exists (Cinder creates it before attaching).
  mkdirSync(join(root, 'backing', 'registry_bench'), { recursive: true });
  writeFileSync(join(root, 'backing', 'registry_bench', 'volume-00000001'), '');
  const env = {
    ...process.env,
    PATH: `${FIXTURE_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    QUOBYTE_STANDIN_ROOT: join(root, 'backing'),
    QUOBYTE_STANDIN_STATE: join(root, 'state'),
  };
  return {
    base,
    env,
    cleanUp: () => {
      // A client that was still starting may mount after the first sweep (EBUSY): sweep again.
      for (let attempt = 1; ; attempt += 1) {
        const mounts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).map((entry) => entry.mountPoint).filter((path) => path.startsWith(base));
        for (const path of mounts.reverse()) spawnSync('umount', ['-l', path]);
        try {
          rmSync(root, { recursive: true, force: true });
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 10) throw error;
          spawnSync('sleep', ['0.3']);
        }
      }
    },
  };
}

type Json = Record<string, unknown> & { samples_ms?: number[]; error?: string };

/** Runs one harness (ours or Nova's) and returns its JSON; `wrap` runs it inside another command. */
function harness(side: 'ours' | 'nova', scenario: string, args: string[], extraEnv: Record<string, string> = {}, wrap: string[] = []): Json {
  const area = scratch();
  try {
    const command = side === 'ours'
      ? [process.execPath, '--import', 'tsx', OURS_HARNESS, scenario, '--mount-base', area.base, '--export', EXPORT, ...args]
      : [PYTHON, NOVA_HARNESS, scenario, '--mount-base', area.base, '--export', EXPORT, ...args];
    const argv = [...wrap, ...command];
    const result = spawnSync(argv[0] ?? '', argv.slice(1), { env: { ...area.env, ...extraEnv }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 900_000 });
    const line = result.stdout.trim().split('\n').at(-1) ?? '';
    let json: Json;
    try {
      json = JSON.parse(line) as Json;
    } catch {
      throw new Error(`${side} ${scenario} printed no JSON (exit ${String(result.status)}): ${result.stderr.slice(-2000)}`);
    }
    if (json.error !== undefined || result.status !== 0) throw new Error(`${side} ${scenario} failed: ${json.error ?? result.stderr.slice(-2000)}`);
    return json;
  } finally {
    area.cleanUp();
  }
}

/** Node's import of the built package, and the process's memory after it, in a fresh process. */
function ourImport(): { import_ms: number; rss_kib_after_import: number } {
  const script = `const t = performance.now(); await import(${JSON.stringify(join(ROOT, 'dist/index.js'))}); ` +
    'console.log(JSON.stringify({ import_ms: performance.now() - t, rss_kib_after_import: Math.round(process.memoryUsage().rss / 1024) }));';
  const samples = Array.from({ length: quick ? 3 : 9 }, () =>
    JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { import_ms: number; rss_kib_after_import: number });
  return { import_ms: median(samples.map((s) => s.import_ms)), rss_kib_after_import: median(samples.map((s) => s.rss_kib_after_import)) };
}

/** Wall time of `count` stand-in clients mounting at once, started directly (no driver). */
function parallelFloor(count: number, extraEnv: Record<string, string>): number {
  const area = scratch();
  try {
    const dirs = Array.from({ length: count }, (_, index) => join(area.base, `floor-${index}`));
    for (const dir of dirs) mkdirSync(dir);
    const script = `const { spawn } = require('node:child_process'); const dirs = ${JSON.stringify(dirs)};` +
      `const t = performance.now(); let left = dirs.length;` +
      `dirs.forEach((d, i) => spawn('mount.quobyte', ['--disable-xattrs', 'registry/floor-' + i, d], { stdio: 'ignore' })` +
      `.on('exit', () => { if (--left === 0) console.log(performance.now() - t); }));`;
    return Number(execFileSync(process.execPath, ['-e', script], { env: { ...area.env, ...extraEnv }, encoding: 'utf8' }).trim());
  } finally {
    area.cleanUp();
  }
}

function samples(json: Json, key = 'samples_ms'): number[] {
  const value = json[key];
  if (!Array.isArray(value)) throw new Error(`harness output has no ${key}`);
  return value as number[];
}

/** The durable-store rows: at 0 recorded attachments against Nova, at `plan.recorded` against the same at 0. */
function durableRows(raw: Record<string, unknown>, novaWarm: number, novaWarmP99: number): BenchRow[] {
  const args = (recorded: number): string[] => ['--recorded', String(recorded), '--iterations', String(plan.durableWarm), '--new-guests', String(plan.newGuests)];
  const empty = harness('ours', 'durable', args(0));
  const full = harness('ours', 'durable', args(plan.recorded));
  raw.durable = { empty, full };
  const rows: BenchRow[] = [];
  for (const [key, what, goal] of [['same_guest_ms', 'same guest again', 5], ['new_guest_ms', 'a new guest on a warm share', 1]] as const) {
    const atZero = median(samples(empty, key));
    const atFull = median(samples(full, key));
    rows.push({ name: `FileAttachmentStore: ${what}`, unit: 'ms', ours: atZero, nova: novaWarm, oursP99: percentile(samples(empty, key), 99), novaP99: novaWarmP99, target: `≥ ${goal}×`, met: ratio(novaWarm, atZero) >= goal });
    const growth = atFull / atZero;
    rows.push({ name: `FileAttachmentStore: ${what}, ${plan.recorded} recorded`, unit: 'ms', ours: atFull, nova: Number.NaN, oursP99: percentile(samples(full, key), 99), target: '≤ 1.5× at 0', met: growth <= 1.5, ratioText: `${growth.toFixed(2)}× at 0` });
  }
  return rows;
}

/** Import and CLI rows as ratios to `node -e 0` (medians of the same rounds), and a note of the floor. */
function startRowsOf(times: Record<string, number[]>): { rows: BenchRow[]; note: string } {
  const floor = median(times['node -e 0'] ?? []);
  const rows = ([
    ['import', 'whole-process import (node -e "import(...)")', 1.5],
    ['config', 'CLI: config', 2],
    ['--help', 'CLI: --help', 2],
    ['status', `CLI: status, ${plan.cliMounts} mounts`, 2],
  ] as const).map(([key, name, goal]): BenchRow => {
    const ours = median(times[key] ?? []);
    return { name, unit: 'ms', ours, nova: Number.NaN, oursP99: percentile(times[key] ?? [], 99), target: `≤ ${goal}× node -e 0`, met: ours / floor <= goal, ratioText: `${(ours / floor).toFixed(2)}× node -e 0` };
  });
  return { rows, note: `\`node -e 0\` took ${floor.toFixed(1)} ms (median of ${String(times['node -e 0']?.length ?? 0)}, interleaved with the rows it divides).` };
}

type Watched = { name: string; ms: number; stall_ms: number };

/** What the stall row measured, operation by operation, beside the same operations on an empty store. */
function stallNote(stall: Json, floor: Json): string {
  const list = (json: Json): string => (json.operations as Watched[]).map((operation) => `${operation.name} ${operation.ms.toFixed(1)} ms (stall ${operation.stall_ms.toFixed(1)} ms)`).join(', ');
  const first = stall.first as Watched;
  return `With ${plan.stallMountPoints} mount points recorded (filled by another process in ${((stall.fill_ms as number) / 1000).toFixed(0)} s), the row is the largest stall of the operations after the first connect: ${list(stall)}; RSS ${((stall.rss_kib as number) / 1024).toFixed(0)} MiB. ` +
    `The same with no other mount point recorded: ${list(floor)} (largest ${(floor.max_stall_ms as number).toFixed(1)} ms). With nothing running, the loop's largest gap was ${(stall.idle as Watched).stall_ms.toFixed(1)} ms and ${(floor.idle as Watched).stall_ms.toFixed(1)} ms (the machine's floor). ` +
    `The first connect (mount command, probe child start) took ${first.ms.toFixed(0)} ms, stall ${first.stall_ms.toFixed(0)} ms; a spawn holds the loop until the child has called exec.`;
}

function main(): void {
  ensurePrerequisites();
  say('Building the package (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });

  const rows: BenchRow[] = [];
  const raw: Record<string, unknown> = {};
  const notes: string[] = [];

  say(`1. warm connect (${plan.warm} calls ours, ${plan.novaWarm} Nova)`);
  const oursWarm = harness('ours', 'warm-connect', ['--iterations', String(plan.warm)]);
  const novaWarm = harness('nova', 'warm-connect', ['--iterations', String(plan.novaWarm), '--child-count']);
  raw.warm = { ours: oursWarm, nova: novaWarm };
  rows.push({ name: 'warm connect, memory store', unit: 'ms', ours: median(samples(oursWarm)), nova: median(samples(novaWarm)), oursP99: percentile(samples(oursWarm), 99), novaP99: percentile(samples(novaWarm), 99), target: '≥ 10×', met: ratio(median(samples(novaWarm)), median(samples(oursWarm))) >= 10 });

  say(`2. cold connect + disconnect (${plan.cold} cycles), minus the commands' own time`);
  const oursCold = harness('ours', 'cold-cycle', ['--iterations', String(plan.cold)]);
  const novaCold = harness('nova', 'cold-cycle', ['--iterations', String(plan.cold)]);
  raw.cold = { ours: oursCold, nova: novaCold };
  const oursOverhead = median(samples(oursCold, 'overhead_ms'));
  rows.push({ name: 'cold cycle overhead', unit: 'ms', ours: oursOverhead, nova: median(samples(novaCold, 'overhead_ms')), oursP99: percentile(samples(oursCold, 'overhead_ms'), 99), novaP99: percentile(samples(novaCold, 'overhead_ms'), 99), target: '< 2 ms', met: oursOverhead < 2 });
  rows.push({ name: 'cold cycle total', unit: 'ms', ours: median(samples(oursCold)), nova: median(samples(novaCold)), oursP99: percentile(samples(oursCold), 99), novaP99: percentile(samples(novaCold), 99), target: '', met: true });

  say(`3. ${plan.exports} exports at once, ${plan.delayMs} ms mounts`);
  const delay = { QUOBYTE_STANDIN_DELAY_MS: String(plan.delayMs) };
  const oursParallel = harness('ours', 'parallel', ['--exports', String(plan.exports)], delay);
  const novaParallel = harness('nova', 'parallel', ['--exports', String(plan.exports)], delay);
  raw.parallel = { ours: oursParallel, nova: novaParallel };
  const wallOurs = oursParallel.wall_ms as number;
  const wallNova = novaParallel.wall_ms as number;
  rows.push({ name: `${plan.exports} exports at once (wall)`, unit: 'ms', ours: wallOurs, nova: wallNova, target: `≥ ${(0.8 * plan.exports).toFixed(1)}×`, met: ratio(wallNova, wallOurs) >= 0.8 * plan.exports });
  // The floor: the same clients started at once straight from here, with no driver at all.
  const floorMs = parallelFloor(plan.exports, delay);
  raw.parallel = { ours: oursParallel, nova: novaParallel, floor_ms: floorMs };
  notes.push(`${plan.exports} clients mounted at once with no driver take ${floorMs.toFixed(0)} ms here (${plan.exports} Python FUSE clients starting on ${cpus().length} cores): the best any driver can do, a ratio of at most ${ratio(wallNova, floorMs).toFixed(2)}× against Nova; ours is ${(wallOurs - floorMs).toFixed(0)} ms above it.`);

  say(`4. warm connect with ${plan.bigTable} unrelated mounts (private mount namespace)`);
  const namespace = (dir: string): string[] => ['unshare', '-m', '--propagation', 'private', PYTHON, MAKE_MOUNTS, String(plan.bigTable), dir, '--'];
  const bigDir = mkdtempSync(join(tmpdir(), 'lvd-bench-10k-'));
  try {
    const oursBig = harness('ours', 'warm-connect', ['--iterations', String(plan.bigWarm)], {}, namespace(bigDir));
    const novaBig = harness('nova', 'warm-connect', ['--iterations', String(plan.novaBigWarm)], {}, namespace(bigDir));
    raw.bigTable = { ours: oursBig, nova: novaBig, mounts: plan.bigTable };
    rows.push({ name: `warm connect, ${plan.bigTable} mounts`, unit: 'ms', ours: median(samples(oursBig)), nova: median(samples(novaBig)), oursP99: percentile(samples(oursBig), 99), novaP99: percentile(samples(novaBig), 99), target: '≥ 1000×', met: ratio(median(samples(novaBig)), median(samples(oursBig))) >= 1_000 });
  } finally {
    rmSync(bigDir, { recursive: true, force: true });
  }

  say('5. child processes per warm connect, import time and memory');
  rows.push({ name: 'child processes per warm connect', unit: '', ours: oursWarm.children_per_call as number, nova: novaWarm.children_per_call as number, target: '0', met: oursWarm.children_per_call === 0 });
  const oursImport = ourImport();
  const novaImport = harness('nova', 'import', []);
  raw.import = { ours: oursImport, nova: novaImport };
  rows.push({ name: 'import time', unit: 'ms', ours: oursImport.import_ms, nova: novaImport.import_total_ms as number, target: '', met: true });
  rows.push({ name: 'memory after import (RSS)', unit: 'MiB', ours: oursImport.rss_kib_after_import / 1024, nova: (novaImport.rss_kib_after_import as number) / 1024, target: '', met: true });

  say(`6. durable store: warm connects at 0 and ${plan.recorded} recorded attachments`);
  rows.push(...durableRows(raw, median(samples(novaWarm)), percentile(samples(novaWarm), 99)));

  say(`7. event-loop stalls with a store of ${plan.stallMountPoints} mount points, and of none`);
  const stall = harness('ours', 'stall', ['--mount-points', String(plan.stallMountPoints)]);
  const stallFloor = harness('ours', 'stall', ['--mount-points', '0']);
  raw.stall = stall;
  raw.stallFloor = stallFloor;
  rows.push({ name: `largest event-loop stall, ${plan.stallMountPoints} mount points`, unit: 'ms', ours: stall.max_stall_ms as number, nova: Number.NaN, target: '≤ 50 ms', met: (stall.max_stall_ms as number) <= 50 });
  notes.push(stallNote(stall, stallFloor));

  say(`8. whole-process start: import and CLI (${plan.startRounds} rounds, status over ${plan.cliMounts} mounts)`);
  const start = harness('ours', 'start', ['--exports', String(plan.cliMounts), '--rounds', String(plan.startRounds)]);
  raw.start = start;
  const { rows: startRows, note } = startRowsOf(start.samples_ms as unknown as Record<string, number[]>);
  rows.push(...startRows);
  notes.push(note);

  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 1024 ** 3), node: process.version, kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(), nova: novaWarm.nova_version, python: novaWarm.python };
  const table = formatTable(rows);
  process.stdout.write(`\n${table}\n`);
  for (const note of notes) process.stdout.write(`note: ${note}\n`);
  process.stdout.write(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, Nova ${String(machine.nova)} on Python ${String(machine.python)}${quick ? ' (quick run: smoke check only)' : ''}\n`);
  const results = { date: new Date().toISOString(), quick, plan, machine, rows, notes, raw };
  writeFileSync(join(ROOT, quick ? 'bench/results.quick.json' : 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (!quick) {
    const page = readFileSync(join(ROOT, 'bench/performance-template.md'), 'utf8')
      .replace('{{date}}', results.date.slice(0, 10))
      .replace('{{table}}', table)
      .replace('{{machine}}', `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, Nova ${String(machine.nova)} on Python ${String(machine.python)}.`)
      .replace('{{notes}}', notes.map((note) => `Note: ${note}`).join('\n\n'));
    writeFileSync(join(ROOT, 'docs/performance.md'), page);
    say('Wrote bench/results.json and docs/performance.md');
  }
}

try {
  main();
} catch (error) {
  say(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
}
