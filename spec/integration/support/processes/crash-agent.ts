/**
 * An agent process for crash-reconcile.integration.spec.ts, started ahead of need: it builds its
 * driver, prints `READY <uid>`, then on `reconcile` (stdin) runs `driver.reconcile()` and prints the report, then on
 * `go` connects and disconnects its guests at random until it is killed (`kill -9`), printing
 * `OP <verb>` as each operation starts.
 */
import { createInterface } from 'node:readline';
import { QuobyteVolumeDriver } from '../../../../lib/drivers/quobyte-volume-driver.js';
import { ci, guest } from '../driver-scene.js';

/** `privilegedHelper`: in the agent pass (the process runs as nobody), the helper through sudo. */
interface Job { base: string; exports: string[]; guests: number[]; privilegedHelper?: string[] }

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const driver = new QuobyteVolumeDriver({ mountPointBase: job.base, systemd: false, probeTimeoutMs: 2_000, ...(job.privilegedHelper === undefined ? {} : { privilegedHelper: job.privilegedHelper }) });
process.stdout.write(`READY ${String(process.getuid?.())}\n`);

async function churn(): Promise<never> {
  for (;;) {
    const exportName = job.exports[Math.floor(Math.random() * job.exports.length)]!;
    const n = job.guests[Math.floor(Math.random() * job.guests.length)]!;
    const attached = (await driver.listAttachments()).get(driver.getMountPath(ci(exportName)))?.includes(`${guest(n).uuid}/volume-1`) === true;
    process.stdout.write(`OP ${attached ? 'disconnect' : 'connect'}\n`);
    try {
      await (attached ? driver.disconnectVolume(ci(exportName), guest(n)) : driver.connectVolume(ci(exportName), guest(n)));
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
    }
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'reconcile') {
    const started = performance.now();
    const report = await driver.reconcile();
    process.stdout.write(`RECONCILED ${JSON.stringify({ ...report, ms: performance.now() - started })}\n`);
  } else if (line === 'go') {
    process.stdout.write('GO\n');
    await churn();
  }
}
