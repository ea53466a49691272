/**
 * Stacked mounts through the driver (fake host): the top goes first, the layer below is judged
 * afresh, nothing is ever mounted on a stack, and a layer a guest may use is never detached
 * lazily. The real-mount counterpart is spec/integration/stacked-mounts.integration.spec.ts.
 */
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { MemoryAttachmentStore } from '../../lib/attachments/memory-attachment-store.js';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { formatPlan } from '../../lib/plans/format-plan.js';
import { FakeHost } from '../support/fake-host.js';

use(chaiAsPromised);

const BASE = '/mnt';
const ME = { uuid: '0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11' };
const OTHER = { uuid: '1cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e12' };
const CI: ConnectionInfo = { driver_volume_type: 'quobyte', data: { export: 'registry/stacked', name: 'volume-1' } };

describe('stacked mounts (fake host)', () => {
  let host: FakeHost;
  let store: MemoryAttachmentStore;
  let driver: QuobyteVolumeDriver;
  let mountPath: string;
  const layers = (): number => host.mounts.filter((entry) => entry.mountPoint === mountPath).length;

  beforeEach(() => {
    host = new FakeHost();
    store = new MemoryAttachmentStore();
    driver = new QuobyteVolumeDriver({ mountPointBase: BASE, runner: host.runner, probe: host.probe, attachments: store, systemd: false, revalidateAfterMs: 0 });
    mountPath = driver.getMountPath(CI);
    host.addQuobyteMount(mountPath, 'quobyte@registry/stacked');
    host.addQuobyteMount(mountPath, 'quobyte@registry/stacked');
    host.files.set(`${mountPath}/volume-1`, new Uint8Array(16));
  });

  it('connect: a dead top over a live layer is unmounted and the live layer reused; nothing is mounted', async () => {
    await store.add(mountPath, `${OTHER.uuid}/volume-1`);
    host.stats.set(mountPath, { errno: 'ENOTCONN' });
    const result = await driver.connectVolume(CI, ME);
    expect(result.action).to.equal('repaired');
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${mountPath}`]);
    expect(layers()).to.equal(1);
    expect(await store.list(mountPath)).to.have.members([`${OTHER.uuid}/volume-1`, `${ME.uuid}/volume-1`]);
  });

  it('connect: a healthy top a guest has files open on stays and is used; no lazy unmount, nothing mounted', async () => {
    await store.add(mountPath, `${OTHER.uuid}/volume-1`);
    host.busy.add(mountPath);
    const result = await driver.connectVolume(CI, ME);
    expect(result.action).to.equal('reused');
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${mountPath}`]);
    expect(layers()).to.equal(2);
  });

  it('connect: every layer dead goes, one by one, then one mount is made', async () => {
    host.stats.set(mountPath, { errno: 'ENOTCONN' });
    host.uncovered.set(mountPath, { errno: 'ECONNABORTED' });
    const result = await driver.connectVolume(CI, ME);
    expect(result.action).to.equal('repaired');
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${mountPath}`, `umount --no-canonicalize ${mountPath}`, `mount.quobyte --disable-xattrs registry/stacked ${mountPath}`]);
    expect(layers()).to.equal(1);
  });

  it('connect: a hung layer below, in use, is refused and left alone (slow is not dead)', async () => {
    await store.add(mountPath, `${OTHER.uuid}/volume-1`);
    host.stats.set(mountPath, { errno: 'ENOTCONN' });
    host.uncovered.set(mountPath, { errno: 'ETIMEDOUT' });
    await expect(driver.connectVolume(CI, ME)).to.be.rejected.and.eventually.have.property('code', 'ERR_VOLUME_UNRESPONSIVE');
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${mountPath}`]);
    expect(host.aborted).to.deep.equal([]);
    expect(layers()).to.equal(1);
    expect(await store.list(mountPath)).to.deep.equal([`${OTHER.uuid}/volume-1`]);
  });

  it('last disconnect: every layer goes, so no mount is left under an empty store', async () => {
    await store.add(mountPath, `${ME.uuid}/volume-1`);
    const result = await driver.disconnectVolume(CI, ME);
    expect(result).to.deep.equal({ unmounted: true, reason: 'unmounted' });
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${mountPath}`, `umount --no-canonicalize ${mountPath}`]);
    expect(layers()).to.equal(0);
    expect(host.directories.has(mountPath)).to.equal(false);
  });

  it('last disconnect: a busy top is reported busy, never detached lazily', async () => {
    await store.add(mountPath, `${ME.uuid}/volume-1`);
    host.busy.add(mountPath);
    expect(await driver.disconnectVolume(CI, ME)).to.deep.equal({ unmounted: false, reason: 'busy' });
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${mountPath}`]);
    expect(layers()).to.equal(2);
    expect(await store.list(mountPath)).to.deep.equal([]);
  });

  it('repair: a dead top goes and the healthy layer below is kept (repaired, nothing mounted)', async () => {
    host.stats.set(mountPath, { errno: 'ENOTCONN' });
    expect(await driver.repairMount(CI)).to.deep.include({ outcome: 'repaired', staleReason: 'not-connected' });
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${mountPath}`]);
    expect(layers()).to.equal(1);
  });

  it('a dry run says it would look again at the layer below', async () => {
    host.stats.set(mountPath, { errno: 'ENOTCONN' });
    const plan = await driver.planConnect(CI, ME);
    expect(formatPlan(plan.steps)).to.equal(
      `would run: umount --no-canonicalize ${mountPath} (if it fails: umount -l --no-canonicalize ${mountPath})\nwould look again: 2 mounts of ours are stacked at ${mountPath}; the one below is judged next\n`,
    );
    expect(host.commands).to.deep.equal([]);
  });

  describe('reconcile()', () => {
    it('flattens a stack in use down to one layer and reports it', async () => {
      await store.add(mountPath, `${OTHER.uuid}/volume-1`);
      host.stats.set(mountPath, { errno: 'ENOTCONN' });
      const report = await driver.reconcile();
      expect(report).to.deep.include({ stacked: [mountPath], flattened: [mountPath], unmounted: [] });
      expect(host.argv).to.deep.equal([`umount --no-canonicalize ${mountPath}`]);
      expect(layers()).to.equal(1);
    });

    it('leaves a stack in use whose top is busy, and does not call it flattened', async () => {
      await store.add(mountPath, `${OTHER.uuid}/volume-1`);
      host.busy.add(mountPath);
      const report = await driver.reconcile();
      expect(report).to.deep.include({ stacked: [mountPath], flattened: [] });
      expect(layers()).to.equal(2);
      expect(host.argv.filter((argv) => argv.includes(' -l '))).to.deep.equal([]);
    });

    it('changes nothing in a dry run', async () => {
      await store.add(mountPath, `${OTHER.uuid}/volume-1`);
      host.stats.set(mountPath, { errno: 'ENOTCONN' });
      expect(await driver.reconcile({ dryRun: true })).to.deep.include({ flattened: [mountPath] });
      expect(host.commands).to.deep.equal([]);
      expect(layers()).to.equal(2);
    });
  });
});
