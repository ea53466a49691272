/**
 * The durable-store scenarios of bench/ours-harness.ts: warm connects with a `FileAttachmentStore`
 * (the same guest again, and a new guest on a warm share) with N attachments of other guests
 * already recorded, and the largest event-loop stall during operations on a store of M mount
 * points. Public API only (`FileAttachmentStore`, `QuobyteVolumeDriver`, `connectVolume`,
 * `disconnectVolume`, and the store's `replaceAll` to fill it), so the rows keep measuring the
 * same thing whatever the store's file layout.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { CommandRunner, ConnectionInfo } from '../lib/index.js';

type Lib = typeof import('../lib/index.js');

export interface DurableContext {
  lib: Lib;
  /** The URL `lib` was imported from (for a filling process). */
  distUrl: string;
  runner: CommandRunner;
  mountBase: string;
  exportName: string;
}

const ci = (exportName: string): ConnectionInfo => ({ driver_volume_type: 'quobyte', data: { export: exportName, name: 'volume-00000001' } });

/** A guest's instance, numbered: `0000000n-...` (a valid uuid-shaped path component). */
function guest(index: number): { uuid: string } {
  return { uuid: `${index.toString(16).padStart(8, '0')}-2b09-4b0a-9f55-3b4b7c1f2e11` };
}

/** `count` attachments of other guests, one per other mount point under the base (none mounted). */
function otherAttachments(mountBase: string, count: number): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (let index = 0; index < count; index += 1) {
    table.set(join(mountBase, `f${index.toString(16).padStart(31, '0')}`), [`${guest(1_000_000 + index).uuid}/volume-${index}`]);
  }
  return table;
}

/**
 * A store in its own private directory beside the mount base, holding `recorded` other
 * attachments. `separateProcess`: filled by another Node process (through the same public API),
 * so the measuring process starts with the store on disk and none of the filling's memory, as
 * an agent that restarts on a host with that many attachments does.
 */
async function openStore(context: DurableContext, recorded: number, separateProcess = false): Promise<{ store: InstanceType<Lib['FileAttachmentStore']>; fillMs: number }> {
  const directory = mkdtempSync(join(dirname(context.mountBase), 'store-'));
  const filePath = join(directory, 'attachments.json');
  const started = performance.now();
  if (recorded > 0 && separateProcess) {
    const script = `const lib = await import(${JSON.stringify(context.distUrl)}); const { fillStore } = await import(${JSON.stringify(import.meta.url)});` +
      `await fillStore(lib, ${JSON.stringify(filePath)}, ${JSON.stringify(context.mountBase)}, ${recorded});`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (result.status !== 0) throw new Error(`filling the store failed: ${result.stderr.slice(-1000)}`);
  } else if (recorded > 0) {
    await fillStore(context.lib, filePath, context.mountBase, recorded);
  }
  return { store: new context.lib.FileAttachmentStore(filePath), fillMs: performance.now() - started };
}

/** Records `recorded` attachments of other guests in the store at `filePath` (public API: `replaceAll`). */
export async function fillStore(lib: Lib, filePath: string, mountBase: string, recorded: number): Promise<void> {
  await new lib.FileAttachmentStore(filePath).replaceAll(otherAttachments(mountBase, recorded));
}

/**
 * With `recorded` attachments of other guests in the store: `iterations` connects of the guest
 * already attached (nothing changes), then `newGuests` connects of a new guest on the warm share
 * (one attachment recorded durably each), each followed by an untimed disconnect of that guest so
 * that the store keeps its size.
 */
export async function durableConnect(context: DurableContext, recorded: number, iterations: number, newGuests: number): Promise<Record<string, unknown>> {
  const { store, fillMs } = await openStore(context, recorded);
  const driver = new context.lib.QuobyteVolumeDriver({ mountPointBase: context.mountBase, runner: context.runner, systemd: 'auto', attachments: store });
  const volume = ci(context.exportName);
  await driver.connectVolume(volume, guest(0));
  const sameGuest: number[] = [];
  for (let index = 0; index < iterations; index += 1) {
    const started = performance.now();
    await driver.connectVolume(volume, guest(0));
    sameGuest.push(performance.now() - started);
  }
  const newGuest: number[] = [];
  for (let index = 1; index <= newGuests; index += 1) {
    const started = performance.now();
    await driver.connectVolume(volume, guest(index));
    newGuest.push(performance.now() - started);
    const result = await driver.disconnectVolume(volume, guest(index));
    if (result.unmounted) throw new Error('a guest\'s disconnect unmounted a share another guest still uses');
  }
  const last = await driver.disconnectVolume(volume, guest(0));
  if (!last.unmounted) throw new Error(`the last disconnect did not unmount: ${last.reason}`);
  return { recorded, fill_ms: fillMs, same_guest_ms: sameGuest, new_guest_ms: newGuest };
}

/** Runs `operation` and returns its time and the largest gap between 1 ms event-loop ticks meanwhile. */
async function watched(name: string, operation: () => Promise<unknown>): Promise<{ name: string; ms: number; stall_ms: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const started = performance.now();
  await operation();
  const ms = performance.now() - started;
  histogram.disable();
  // The histogram records whole tick intervals; without a tick the loop never stalled past the operation.
  const stall = histogram.count === 0 ? ms : histogram.max / 1e6;
  return { name, ms, stall_ms: stall };
}

/**
 * A store of `mountPoints` mount points (one attachment each), filled by another process: the
 * first connect (mounts; it may also open or migrate the store) and then a warm connect, a new
 * guest, its disconnect, the whole table as reconcile and `status` read it
 * (`listAttachments()`), and the last disconnect (unmounts), each with its time and the largest
 * event-loop stall during it. bench/run.ts runs it at 0 mount points too: the floor of the same
 * operations (the mount and unmount commands' spawns stall the loop whatever the store holds).
 */
export async function stallWithLargeStore(context: DurableContext, mountPoints: number): Promise<Record<string, unknown>> {
  const { store, fillMs } = await openStore(context, mountPoints, true);
  const driver = new context.lib.QuobyteVolumeDriver({ mountPointBase: context.mountBase, runner: context.runner, systemd: 'auto', attachments: store });
  const volume = ci(context.exportName);
  // The floor this machine sets: the largest gap between ticks with nothing running at all.
  const idle = await watched('idle', () => new Promise((resolve) => { setTimeout(resolve, 500); }));
  const first = await watched('first connect (mounts)', () => driver.connectVolume(volume, guest(0)));
  const operations = [
    await watched('warm connect, same guest', () => driver.connectVolume(volume, guest(0))),
    await watched('connect a new guest', () => driver.connectVolume(volume, guest(1))),
    await watched('disconnect that guest', () => driver.disconnectVolume(volume, guest(1))),
    await watched('listAttachments (the whole table)', async () => {
      const table = await driver.listAttachments();
      if (table.size !== mountPoints + 1) throw new Error(`listAttachments found ${table.size} mount points, not ${mountPoints + 1}`);
    }),
    await watched('last disconnect (unmounts)', () => driver.disconnectVolume(volume, guest(0))),
  ];
  return {
    mount_points: mountPoints,
    fill_ms: fillMs,
    idle,
    first,
    operations,
    max_stall_ms: Math.max(...operations.map((operation) => operation.stall_ms)),
    rss_kib: Math.round(process.memoryUsage().rss / 1024),
  };
}
