/**
 * Whole-process start-up, as an operator or an agent meets it: `node -e 0`, importing the package
 * from a consumer's directory, and the `libvirt-volume` CLI (`config`, `--help`, `status` on a
 * base with mounts), each as a fresh process, interleaved round by round so that a busy machine
 * slows all of them alike. Ratios are to `node -e 0` in the same run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface StartCommand {
  name: string;
  args: string[];
}

/**
 * A consumer's directory in `scratch` whose `node_modules/libvirt-volume-driver` is the package
 * at `packageRoot` (built), as `npm install` of it would resolve.
 */
export function makeConsumer(scratch: string, packageRoot: string): string {
  const consumer = join(scratch, 'consumer');
  mkdirSync(join(consumer, 'node_modules'), { recursive: true });
  symlinkSync(packageRoot, join(consumer, 'node_modules', 'libvirt-volume-driver'));
  return consumer;
}

/**
 * `rounds` rounds of every command (Node with `args`, in `cwd`); each must exit 0. Resolves to
 * the samples in milliseconds by name.
 */
export function timeStarts(commands: readonly StartCommand[], rounds: number, cwd: string, env: NodeJS.ProcessEnv): Record<string, number[]> {
  const samples: Record<string, number[]> = Object.fromEntries(commands.map((command) => [command.name, []]));
  const childEnv = { ...env };
  delete childEnv.NODE_OPTIONS;
  for (let round = 0; round < rounds; round += 1) {
    for (const command of commands) {
      const started = performance.now();
      const result = spawnSync(process.execPath, command.args, { cwd, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 60_000 });
      const ms = performance.now() - started;
      if (result.status !== 0) throw new Error(`${command.name} exited ${String(result.status)}: ${result.stderr.slice(-500)}`);
      samples[command.name]?.push(ms);
    }
  }
  return samples;
}
