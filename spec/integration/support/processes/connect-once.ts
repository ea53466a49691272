/**
 * An agent process for stacked-mounts.integration.spec.ts: builds a driver with the library's
 * defaults on a base, prints `READY`, and on `go` (stdin) connects one guest, printing `GO` as
 * it starts and `DONE <action>` (or `FAILED <code>`) at the end. The test kills it at a random
 * moment in between.
 */
import { createInterface } from 'node:readline';
import { QuobyteVolumeDriver } from '../../../../lib/drivers/quobyte-volume-driver.js';
import { ci, guest } from '../driver-scene.js';

/** `privilegedHelper`: in the agent pass (the process runs as nobody), the helper through sudo. */
interface Job { base: string; export: string; guest: number; privilegedHelper?: string[] }

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const driver = new QuobyteVolumeDriver({ mountPointBase: job.base, systemd: false, probeTimeoutMs: 2_000, ...(job.privilegedHelper === undefined ? {} : { privilegedHelper: job.privilegedHelper }) });
process.stdout.write('READY\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'go') continue;
  process.stdout.write('GO\n');
  try {
    const result = await driver.connectVolume(ci(job.export), guest(job.guest));
    process.stdout.write(`DONE ${result.action}\n`);
  } catch (error) {
    process.stdout.write(`FAILED ${String((error as { code?: unknown }).code)}\n`);
  }
}
