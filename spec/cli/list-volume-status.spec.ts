import { expect } from 'chai';
import { listVolumeStatus, problemsOf, type VolumeHealth, type VolumeProblem } from '../../lib/cli/list-volume-status.js';
import type { ProbeOptions } from '../../lib/filesystem/file-system-probe.js';
import { MemoryAttachmentStore } from '../../lib/attachments/memory-attachment-store.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { FakeHost } from '../support/fake-host.js';

describe('listVolumeStatus()', () => {
  it('names mounts as the driver does, also for a base written with a trailing slash', async () => {
    const host = new FakeHost();
    host.addQuobyteMount('/mnt/abc', 'quobyte@reg/vol');
    const attachments = new MemoryAttachmentStore();
    await attachments.add('/mnt/abc', 'i/v');
    const driver = new QuobyteVolumeDriver({ mountPointBase: '/mnt/', probe: host.probe, runner: host.runner, attachments, systemd: false });
    expect(await listVolumeStatus(driver, host.probe)).to.deep.equal([
      { mountPath: '/mnt/abc', export: 'reg/vol', fsType: 'fuse.quobyte', health: 'healthy', attachments: ['i/v'], problems: [] },
    ]);
  });

  it('keeps an old client\'s source as the export when it has no quobyte@ prefix', async () => {
    const host = new FakeHost();
    host.addQuobyteMount('/mnt/abc', 'reg/vol');
    host.mounts[0] = { ...host.mounts[0]!, source: 'reg/vol' };
    const driver = new QuobyteVolumeDriver({ mountPointBase: '/mnt', probe: host.probe, runner: host.runner, systemd: false });
    const [row] = await listVolumeStatus(driver, host.probe);
    expect(row).to.include({ export: 'reg/vol', health: 'healthy' });
  });

  it('inspects hung mounts all at once', async () => {
    const host = new FakeHost();
    for (const name of ['a', 'b', 'c']) host.addQuobyteMount(`/mnt/${name}`, `quobyte@reg/${name}`);
    let pending = 0;
    let most = 0;
    host.probe.stat = (() => {
      pending += 1;
      most = Math.max(most, pending);
      return new Promise((_resolve, reject) =>
        setTimeout(() => {
          pending -= 1;
          reject(Object.assign(new Error('ETIMEDOUT'), { code: 'ETIMEDOUT' }));
        }, 5),
      );
    }) as unknown as typeof host.probe.stat;
    const driver = new QuobyteVolumeDriver({ mountPointBase: '/mnt', probe: host.probe, runner: host.runner, systemd: false });
    const rows = await listVolumeStatus(driver, host.probe);
    expect(rows.map((row) => row.health)).to.deep.equal(['unresponsive', 'unresponsive', 'unresponsive']);
    expect(most).to.equal(3);
  });

  it('calls onWaiting once for each mount still being checked after waitingAfterMs, and only for those', async () => {
    const host = new FakeHost();
    host.addQuobyteMount('/mnt/slow', 'quobyte@reg/slow');
    host.addQuobyteMount('/mnt/quick', 'quobyte@reg/quick');
    const stat = host.probe.stat;
    host.probe.stat = ((path: string, options?: ProbeOptions) =>
      path === '/mnt/slow' ? new Promise((resolve) => setTimeout(() => { resolve(stat(path, options)); }, 300)) : stat(path, options)) as typeof host.probe.stat;
    const driver = new QuobyteVolumeDriver({ mountPointBase: '/mnt', probe: host.probe, runner: host.runner, systemd: false });
    const waiting: string[] = [];
    const rows = await listVolumeStatus(driver, host.probe, { waitingAfterMs: 50, onWaiting: (mountPath) => waiting.push(mountPath) });
    expect(waiting).to.deep.equal(['/mnt/slow']);
    expect(rows.map((row) => row.health)).to.deep.equal(['healthy', 'healthy']);
  });

  describe('problemsOf()', () => {
    const table: Array<[VolumeHealth, number, VolumeProblem[]]> = [
      ['healthy', 1, []],
      ['healthy', 0, ['orphaned']],
      ['stale', 1, ['stale']],
      ['stale', 0, ['stale', 'orphaned']],
      ['unresponsive', 2, ['unresponsive']],
      ['unresponsive', 0, ['unresponsive', 'orphaned']],
      ['foreign', 0, ['foreign']],
      ['foreign', 1, ['foreign']],
      ['absent', 1, ['not-mounted']],
      ['unknown', 0, ['unknown']],
    ];
    for (const [health, count, problems] of table) {
      it(`${health} with ${count} attachment(s): ${problems.length === 0 ? 'no problem' : problems.join(', ')}`, () => {
        expect(problemsOf(health, count)).to.deep.equal(problems);
      });
    }
  });
});
