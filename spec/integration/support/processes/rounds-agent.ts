/**
 * An agent process for host-wide-truth.integration.spec.ts: a driver with the library's
 * defaults on a base (the host-wide store and locks), doing random connect/disconnect rounds
 * for its own guests on a few exports, then disconnecting what it still has. Prints a JSON
 * summary on stdout. With `stopFile`, it goes on past `rounds` until that file exists (pausing
 * `pauseMs` between rounds), so its rounds span a slower process's.
 */
import { existsSync } from 'node:fs';
import { QuobyteVolumeDriver } from '../../../../lib/drivers/quobyte-volume-driver.js';
import { ci, guest } from '../driver-scene.js';

/** `privilegedHelper`: in the agent pass (the process runs as nobody), the helper through sudo. */
interface Job { base: string; exports: string[]; guests: number[]; rounds: number; seed: number; stopFile?: string; pauseMs?: number; privilegedHelper?: string[] }

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const driver = new QuobyteVolumeDriver({ mountPointBase: job.base, systemd: false, ...(job.privilegedHelper === undefined ? {} : { privilegedHelper: job.privilegedHelper }) });
let seed = job.seed;
/** A small deterministic generator (mulberry32), so a failing run can be repeated. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}

const attached = new Set<string>();
const errors: string[] = [];
const counts = { connects: 0, disconnects: 0 };
const started = performance.now();
async function toggle(exportName: string, n: number): Promise<void> {
  const key = `${exportName} ${n}`;
  try {
    if (attached.has(key)) {
      await driver.disconnectVolume(ci(exportName), guest(n));
      attached.delete(key);
      counts.disconnects += 1;
    } else {
      await driver.connectVolume(ci(exportName), guest(n));
      attached.add(key);
      counts.connects += 1;
    }
  } catch (error) {
    errors.push(`${key}: ${(error as Error).message}`);
  }
}
let rounds = 0;
while (rounds < job.rounds || (job.stopFile !== undefined && !existsSync(job.stopFile))) {
  await toggle(job.exports[Math.floor(random() * job.exports.length)]!, job.guests[Math.floor(random() * job.guests.length)]!);
  rounds += 1;
  if (job.pauseMs !== undefined) await new Promise((resolve) => setTimeout(resolve, job.pauseMs));
}
for (const key of [...attached]) {
  const [exportName, n] = key.split(' ');
  await toggle(exportName!, Number(n));
}
process.stdout.write(`${JSON.stringify({ rounds, ...counts, errors, ms: performance.now() - started })}\n`);
process.exit(0);
