import { expect } from 'chai';
import { listVolumeStatus } from '../../lib/cli/list-volume-status.js';
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
      { mountPath: '/mnt/abc', export: 'reg/vol', fsType: 'fuse.quobyte', health: 'healthy', attachments: ['i/v'] },
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
});
