/**
 * An unprivileged agent (run as `nobody` by hung-shares.integration.spec.ts): the driver with
 * `privilegedHelper` and its own file store. `attach` connects guest 1 to the share in use;
 * `hung`, a restarted agent, calls the driver on that share and on an unused one after both
 * clients were stopped, and prints what happened as JSON.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { FileAttachmentStore } from '../../../../lib/attachments/file-attachment-store.js';
import { ExecaCommandRunner } from '../../../../lib/commands/execa-command-runner.js';
import { QuobyteVolumeDriver } from '../../../../lib/drivers/quobyte-volume-driver.js';
import { RecordingRunner, ci, guest, sampleLocalReads } from '../driver-scene.js';

interface Job { base: string; store: string; helper: string[]; inUse: string; unused: string; probeTimeoutMs: number; local: string }

const [phase, raw] = process.argv.slice(2);
const job = JSON.parse(raw ?? '{}') as Job;
const runner = new RecordingRunner(new ExecaCommandRunner({ timeoutMs: 30_000 }));
const driver = new QuobyteVolumeDriver({ mountPointBase: job.base, runner, attachments: new FileAttachmentStore(job.store), privilegedHelper: job.helper, probeTimeoutMs: job.probeTimeoutMs });

async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    const value = (await call()) as { state?: string; reason?: string; action?: string } | undefined;
    return value?.state === undefined ? (value?.reason === undefined ? (value?.action ?? 'ok') : `reason:${value.reason}`) : `state:${value.state}`;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

if (phase === 'attach') {
  await driver.connectVolume(ci(job.inUse), guest(1));
} else {
  const reads = sampleLocalReads(job.local);
  const inUse = ci(job.inUse);
  const outcomes = [
    await outcome(() => driver.connectVolume(inUse, guest(2))),
    await outcome(() => driver.inspectMount(driver.getMountPath(inUse))),
    await outcome(() => driver.extendVolume(inUse, guest(1), 2 << 20, { timeoutMs: 500 })),
    await outcome(() => driver.disconnectVolume(inUse, guest(2))),
    await outcome(() => driver.connectVolume(ci(job.unused), guest(3))),
    await outcome(() => driver.reconcile()),
  ];
  const slowestLocalReadMs = await reads.stop();
  const blocked = readdirSync('/proc/self/task').filter((tid) => /fuse|request_wait_answer/.test(readFileSync(`/proc/self/task/${tid}/wchan`, 'utf8'))).length;
  process.stdout.write(`${JSON.stringify({ outcomes, commands: runner.argv, slowestLocalReadMs, blocked, uid: process.getuid?.() })}\n`);
}
process.exit(0);
