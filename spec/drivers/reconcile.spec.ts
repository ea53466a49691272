import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { MemoryAttachmentStore } from '../../lib/attachments/memory-attachment-store.js';
import { FakeHost } from '../support/fake-host.js';

use(chaiAsPromised);

const BASE = '/mnt';
const GUEST = { uuid: '0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11' };
const ci = (volume: string): ConnectionInfo => ({ driver_volume_type: 'quobyte', data: { export: `registry/${volume}`, name: 'volume-1' } });

describe('FileSystemVolumeDriver', () => {
  describe('reconcile()', () => {
    let host: FakeHost;
    let store: MemoryAttachmentStore;
    let driver: QuobyteVolumeDriver;

    beforeEach(() => {
      host = new FakeHost();
      store = new MemoryAttachmentStore();
      driver = new QuobyteVolumeDriver({ mountPointBase: BASE, runner: host.runner, probe: host.probe, attachments: store, systemd: false });
    });

    it('unmounts own mounts under the base that no attachment needs, and keeps those in use', async () => {
      await driver.connectVolume(ci('kept'), GUEST);
      const orphan = driver.getMountPath(ci('orphan'));
      host.addQuobyteMount(orphan, 'quobyte@registry/orphan'); // a crash between mount and record
      host.directories.add(orphan);
      const report = await driver.reconcile();
      expect(report.unmounted).to.deep.equal([orphan]);
      expect(host.argv.at(-1)).to.equal(`umount --no-canonicalize ${orphan}`);
      expect(host.isMounted(driver.getMountPath(ci('kept')))).to.equal(true);
      expect(host.directories.has(orphan)).to.equal(false);
    });

    it('changes nothing in a dry run, and says what it would unmount', async () => {
      const orphan = driver.getMountPath(ci('orphan'));
      host.addQuobyteMount(orphan, 'quobyte@registry/orphan');
      expect((await driver.reconcile({ dryRun: true })).unmounted).to.deep.equal([orphan]);
      expect(host.commands).to.deep.equal([]);
      expect(host.isMounted(orphan)).to.equal(true);
    });

    it('reports attachments whose share is gone, and leaves the store alone', async () => {
      await driver.connectVolume(ci('gone'), GUEST);
      const mountPath = driver.getMountPath(ci('gone'));
      host.mounts = [];
      const report = await driver.reconcile();
      expect(report.missing).to.deep.equal([{ mountPath, attachments: [`${GUEST.uuid}/volume-1`] }]);
      expect(await store.list(mountPath)).to.have.length(1);
    });

    it('reports foreign file systems and mounts outside the base, and touches neither', async () => {
      const foreign = driver.getMountPath(ci('foreign'));
      host.mounts.push({ mountPoint: foreign, source: 'tmpfs', fsType: 'tmpfs', options: [] });
      host.addQuobyteMount('/elsewhere/c94ed34ada0acf45c1213beb1fc52ce6');
      host.addQuobyteMount(`${BASE}/not-a-hash`);
      const report = await driver.reconcile();
      expect(report).to.deep.include({ unmounted: [], foreign: [foreign] });
      expect(host.commands).to.deep.equal([]);
    });

    it('unmounts every layer of a stacked mount no attachment needs, and reports it', async () => {
      const stacked = driver.getMountPath(ci('stacked'));
      host.addQuobyteMount(stacked, 'quobyte@registry/stacked');
      host.addQuobyteMount(stacked, 'quobyte@registry/stacked');
      const report = await driver.reconcile();
      expect(report.stacked).to.deep.equal([stacked]);
      expect(report.unmounted).to.deep.equal([stacked]);
      expect(host.argv).to.deep.equal([`umount --no-canonicalize ${stacked}`, `umount --no-canonicalize ${stacked}`]);
      expect(host.isMounted(stacked)).to.equal(false);
    });

    it('leaves a hung mount with files open alone and reports it kept', async () => {
      const hung = driver.getMountPath(ci('hung'));
      host.addQuobyteMount(hung, 'quobyte@registry/hung');
      host.stats.set(hung, { errno: 'ETIMEDOUT' });
      host.openFiles.set(hung, 1);
      const report = await driver.reconcile();
      expect(report).to.deep.include({ unmounted: [], kept: [hung] });
      expect(host.commands).to.deep.equal([]);
      expect(host.aborted).to.deep.equal([]);
    });
  });
});
