/**
 * This library's side of the benchmark: the same scenarios as bench/nova/nova_harness.py, on the
 * built package (dist/), printing one JSON object of raw samples in milliseconds.
 *
 *   node --import tsx bench/ours-harness.ts <scenario> --mount-base DIR [--iterations N] [--exports K] [--export E]
 *     [--recorded N] [--new-guests N] [--mount-points N] [--rounds N]
 *
 * Scenarios: warm-connect, cold-cycle, parallel, import (memory store, as Nova keeps its counts in
 * memory); durable (`FileAttachmentStore` with --recorded other attachments: the same guest
 * --iterations times, then --new-guests new guests), stall (a store of --mount-points mount
 * points: each operation's largest event-loop stall), start (whole-process import and CLI times,
 * --rounds rounds, with --exports mounts under the base for `status`).
 */
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command, CommandResult, CommandRunner, RunOptions } from '../lib/index.js';
import { durableConnect, stallWithLargeStore } from './durable-store.js';
import { makeConsumer, timeStarts } from './process-start.js';

/** The built package, as a consumer loads it (resolved at run time; `npm run build` first). */
const DIST = new URL('../dist/index.js', import.meta.url).href;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    'mount-base': { type: 'string' },
    iterations: { type: 'string' },
    exports: { type: 'string' },
    export: { type: 'string', default: 'registry/bench' },
    recorded: { type: 'string' },
    'new-guests': { type: 'string' },
    'mount-points': { type: 'string' },
    rounds: { type: 'string' },
  },
});
const scenario = positionals[0] ?? '';
const mountBase = values['mount-base'] ?? '';
const exportName = values.export;

/** Wraps the real runner: counts child processes and times each command. */
class MeasuringRunner implements CommandRunner {
  commands: Array<{ argv: string[]; ms: number }> = [];
  constructor(private readonly inner: CommandRunner) {}
  async run(command: Command, options?: RunOptions): Promise<CommandResult> {
    const started = performance.now();
    try {
      return await this.inner.run(command, options);
    } finally {
      this.commands.push({ argv: [command.file, ...command.args], ms: performance.now() - started });
    }
  }
}

function rssKib(): number {
  return Math.round(process.memoryUsage().rss / 1024);
}

async function main(): Promise<Record<string, unknown>> {
  const importStarted = performance.now();
  const lib = (await import(DIST)) as typeof import('../lib/index.js');
  const importMs = performance.now() - importStarted;
  if (scenario === 'import') return { scenario, import_ms: importMs, rss_kib_after_import: rssKib() };

  const runner = new MeasuringRunner(new lib.ExecaCommandRunner());
  // The memory store, as the scenarios say (a driver on the real host defaults to the durable
  // store of its base, which the `durable` scenario measures).
  const driver = new lib.QuobyteVolumeDriver({ mountPointBase: mountBase, runner, systemd: 'auto', attachments: new lib.MemoryAttachmentStore() });
  // Nova's harness has all of Nova (subprocess included) imported before it times anything; the
  // runner loads execa on construction, so let that finish too before the clock starts.
  await runner.run({ file: 'true', args: [] });
  runner.commands = [];
  const instance = { uuid: '0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11' };
  const ci = (exp: string): { driver_volume_type: string; data: { export: string; name: string } } =>
    ({ driver_volume_type: 'quobyte', data: { export: exp, name: 'volume-00000001' } });

  switch (scenario) {
    case 'warm-connect': {
      const iterations = Number(values.iterations ?? 1000);
      await driver.connectVolume(ci(exportName), instance);
      const firstCommands = runner.commands.length;
      const samples: number[] = [];
      for (let index = 0; index < iterations; index += 1) {
        const started = performance.now();
        await driver.connectVolume(ci(exportName), instance);
        samples.push(performance.now() - started);
      }
      const warmChildren = runner.commands.length - firstCommands;
      await driver.disconnectVolume(ci(exportName), instance);
      return { scenario, import_ms: importMs, samples_ms: samples, children_total: warmChildren, children_per_call: warmChildren / iterations, rss_kib: rssKib() };
    }
    case 'cold-cycle': {
      const iterations = Number(values.iterations ?? 50);
      const samples: number[] = [];
      const commandMs: number[] = [];
      const overhead: number[] = [];
      for (let index = 0; index < iterations; index += 1) {
        runner.commands = [];
        const started = performance.now();
        await driver.connectVolume(ci(exportName), instance);
        const result = await driver.disconnectVolume(ci(exportName), instance);
        const total = performance.now() - started;
        if (!result.unmounted) throw new Error(`cycle ${index} did not unmount: ${result.reason}`);
        const inCommands = runner.commands.reduce((sum, command) => sum + command.ms, 0);
        samples.push(total);
        commandMs.push(inCommands);
        overhead.push(total - inCommands);
      }
      return { scenario, samples_ms: samples, command_ms: commandMs, overhead_ms: overhead, rss_kib: rssKib() };
    }
    case 'parallel': {
      const exports = Number(values.exports ?? 8);
      const names = Array.from({ length: exports }, (_, index) => `${exportName}-${index}`);
      const started = performance.now();
      const samples = await Promise.all(names.map(async (name) => {
        const own = performance.now();
        await driver.connectVolume(ci(name), instance);
        return performance.now() - own;
      }));
      const wall = performance.now() - started;
      for (const name of names) await driver.disconnectVolume(ci(name), instance);
      return { scenario, wall_ms: wall, samples_ms: samples, mounted: exports };
    }
    case 'durable':
      return { scenario, ...(await durableConnect({ lib, distUrl: DIST, runner, mountBase, exportName }, Number(values.recorded ?? 0), Number(values.iterations ?? 500), Number(values['new-guests'] ?? 100))) };
    case 'stall':
      return { scenario, ...(await stallWithLargeStore({ lib, distUrl: DIST, runner, mountBase, exportName }, Number(values['mount-points'] ?? 200_000))) };
    case 'start':
      return { scenario, ...(await processStart(lib, runner, Number(values.exports ?? 10), Number(values.rounds ?? 11))) };
    default:
      throw new Error(`unknown scenario ${JSON.stringify(scenario)}`);
  }
}

/**
 * `count` shares mounted under the base and recorded in a `FileAttachmentStore`, then `rounds`
 * rounds of `node -e 0`, the package's import from a consumer's directory, and the CLI's
 * `config`, `--help` and `status` on that base; all unmounted again after.
 */
async function processStart(lib: typeof import('../lib/index.js'), runner: CommandRunner, count: number, rounds: number): Promise<Record<string, unknown>> {
  const root = fileURLToPath(new URL('..', DIST));
  const cli = join(root, 'dist/cli/main.js');
  const state = join(dirname(mountBase), 'cli-state.json');
  const driver = new lib.QuobyteVolumeDriver({ mountPointBase: mountBase, runner, systemd: 'auto', attachments: new lib.FileAttachmentStore(state) });
  const names = Array.from({ length: count }, (_, index) => ({ driver_volume_type: 'quobyte', data: { export: `${exportName}-${index}`, name: 'volume-00000001' } }));
  const instance = { uuid: '0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11' };
  for (const ci of names) await driver.connectVolume(ci, instance);
  try {
    const samples = timeStarts([
      { name: 'node -e 0', args: ['-e', '0'] },
      { name: 'import', args: ['-e', "import('libvirt-volume-driver')"] },
      { name: 'config', args: [cli, 'config', '--export', exportName, '--name', 'volume-00000001'] },
      { name: '--help', args: [cli, '--help'] },
      { name: 'status', args: [cli, 'status', '--base', mountBase, '--state', state] },
    ], rounds, makeConsumer(dirname(mountBase), root), process.env);
    return { mounts: count, rounds, samples_ms: samples };
  } finally {
    for (const ci of names) await driver.disconnectVolume(ci, instance);
  }
}

try {
  process.stdout.write(`${JSON.stringify(await main())}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ scenario, error: String(error) })}\n`);
  process.exitCode = 1;
}
