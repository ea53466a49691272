/**
 * `driver.repairMount` and the events of the locked paths, on the fake host (the real-mount
 * version is spec/integration/driver-events.integration.spec.ts).
 */
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { VolumeUnresponsiveError } from '../../lib/errors.js';
import { subscribeChannel, type ChannelKind } from '../../lib/observability/channels.js';
import { FakeHost } from '../support/fake-host.js';

use(chaiAsPromised);

const BASE = '/mnt';
const CI = { driver_volume_type: 'quobyte', data: { export: 'registry:7861/vols', name: 'volume-1' } } as const;
const GUEST_A = { uuid: '11111111-1111-4111-8111-111111111111' };
const GUEST_B = { uuid: '22222222-2222-4222-8222-222222222222' };

describe('FileSystemVolumeDriver.repairMount', () => {
  let host: FakeHost;
  let driver: QuobyteVolumeDriver;
  let kinds: string[];
  let unsubscribe: Array<() => void>;
  let mountPath: string;

  beforeEach(() => {
    host = new FakeHost();
    host.directories.add(BASE);
    driver = new QuobyteVolumeDriver({ mountPointBase: BASE, runner: host.runner, probe: host.probe, systemd: false });
    mountPath = driver.getMountPath(CI);
    kinds = [];
    unsubscribe = (['mount', 'unmount', 'reuse', 'repair', 'unresponsive', 'busy'] as ChannelKind[]).map((kind) => subscribeChannel(kind, () => kinds.push(kind)));
  });

  afterEach(() => {
    for (const off of unsubscribe) off();
  });

  it('publishes reuse when a new guest joins a healthy mount (the locked path), as the warm path does', async () => {
    await driver.connectVolume(CI, GUEST_A);
    kinds.length = 0;
    await driver.connectVolume(CI, GUEST_B);
    await driver.connectVolume(CI, GUEST_A);
    expect(kinds).to.deep.equal(['reuse', 'reuse']);
  });

  it('repairs a stale mount in use without recording an attachment, publishing repair, unmount and mount', async () => {
    await driver.connectVolume(CI, GUEST_A);
    host.stats.set(mountPath, { errno: 'ENOTCONN' });
    host.commands.length = 0;
    kinds.length = 0;
    expect(await driver.repairMount(CI)).to.deep.equal({ mountPath, outcome: 'repaired', staleReason: 'not-connected' });
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${mountPath}`, `mount.quobyte --disable-xattrs registry:7861/vols ${mountPath}`]);
    expect(kinds).to.deep.equal(['repair', 'unmount', 'mount']);
    expect(Object.fromEntries(await driver.listAttachments())).to.deep.equal({ [mountPath]: [`${GUEST_A.uuid}/volume-1`] });
  });

  it('leaves a hung mount in use alone without force, and replaces it with force', async () => {
    await driver.connectVolume(CI, GUEST_A);
    host.stats.set(mountPath, { errno: 'ETIMEDOUT' });
    host.commands.length = 0;
    kinds.length = 0;
    await expect(driver.repairMount(CI)).to.be.rejectedWith(VolumeUnresponsiveError, /--force/);
    expect(host.commands).to.deep.equal([]);
    expect(kinds).to.deep.equal(['unresponsive']);
    expect(await driver.repairMount(CI, { force: true })).to.include({ outcome: 'repaired', staleReason: 'unresponsive' });
    expect(host.argv).to.deep.equal([`umount -l --no-canonicalize ${mountPath}`, `mount.quobyte --disable-xattrs registry:7861/vols ${mountPath}`]);
    expect(host.aborted).to.have.length(1);
  });

  it('validates its input before anything runs, and honours an aborted signal', async () => {
    await expect(driver.repairMount({ ...CI, data: { ...CI.data, export: '-o/x' } })).to.be.rejected.and.eventually.have.property('code', 'ERR_INVALID_CONNECTION_INFO');
    await expect(driver.repairMount(CI, { signal: AbortSignal.abort() })).to.be.rejected.and.eventually.have.property('name', 'AbortError');
    expect(host.commands).to.deep.equal([]);
  });

  it('plans without doing: planRepair gives the steps and runs nothing', async () => {
    host.addQuobyteMount(mountPath, 'quobyte@registry:7861/vols');
    host.stats.set(mountPath, { errno: 'ENOTCONN' });
    const plan = await driver.planRepair(CI);
    expect(plan).to.include({ operation: 'repair', outcome: 'repaired', staleReason: 'not-connected' });
    expect(host.commands).to.deep.equal([]);
  });
});
