/** The less travelled paths of FileSystemVolumeDriver, through the Quobyte driver on a FakeHost. */
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import sinon from 'sinon';
import type { Command, RunOptions } from '../../lib/commands/command-runner.js';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { QuobyteVolumeDriver, type QuobyteVolumeDriverOptions } from '../../lib/drivers/quobyte-volume-driver.js';
import { InvalidConnectionInfoError, InvalidVolumeError, VolumeMountError } from '../../lib/errors.js';
import { FakeHost, fileStat } from '../support/fake-host.js';

use(chaiAsPromised);

const BASE = '/mnt';
const MOUNT_PATH = '/mnt/c94ed34ada0acf45c1213beb1fc52ce6';
const IMAGE = `${MOUNT_PATH}/volume-1`;
const INSTANCE = { uuid: '0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11' };
const CI: ConnectionInfo = { data: { export: '192.168.1.1/volume-00001', name: 'volume-1' } };

function abortError(): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError' });
}

describe('FileSystemVolumeDriver (edge cases)', () => {
  let host: FakeHost;
  const makeDriver = (options: Partial<QuobyteVolumeDriverOptions> = {}): QuobyteVolumeDriver =>
    new QuobyteVolumeDriver({ mountPointBase: BASE, runner: host.runner, probe: host.probe, systemd: false, ...options });

  beforeEach(() => {
    host = new FakeHost();
  });

  afterEach(() => {
    sinon.restore();
  });

  describe('constructor', () => {
    it('throws TypeError for a missing options object and out-of-range timeouts', () => {
      expect(() => new QuobyteVolumeDriver(null as unknown as QuobyteVolumeDriverOptions)).to.throw(TypeError, /options object/);
      expect(() => makeDriver({ commandTimeoutMs: 0 })).to.throw(TypeError, /commandTimeoutMs to be a positive integer/);
      expect(() => makeDriver({ revalidateAfterMs: -1 })).to.throw(TypeError, /revalidateAfterMs to be a non-negative integer/);
    });
  });

  describe('connectVolume()', () => {
    it('passes the caller\'s signal to the mount command', async () => {
      const { signal } = new AbortController();
      await makeDriver().connectVolume(CI, INSTANCE, { signal });
      expect(host.runner.run.firstCall.args[1]?.signal).to.equal(signal);
    });

    it('rejects with the AbortError, not a mount error, when the mount is aborted, and removes the directory', async () => {
      host.runner.run = sinon.spy((_command: Command) => Promise.reject(abortError()));
      await expect(makeDriver().connectVolume(CI, INSTANCE)).to.be.rejected.and.eventually.have.property('name', 'AbortError');
      expect(host.directories.has(MOUNT_PATH)).to.equal(false);
    });

    it('rejects with VolumeMountError when the mount command succeeds but nothing is mounted', async () => {
      host.runner.run = sinon.spy((_command: Command) => Promise.resolve({ exitCode: 0, stdout: '', stderr: '' }));
      const error = await makeDriver().connectVolume(CI, INSTANCE).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(VolumeMountError);
      expect((error as Error).message).to.contain('(absent)');
    });

    it('rejects with the AbortError when the unmount of a stale mount is aborted', async () => {
      host.addQuobyteMount(MOUNT_PATH);
      host.stats.set(MOUNT_PATH, { errno: 'ENOTCONN' });
      host.runner.run = sinon.spy((_command: Command) => Promise.reject(abortError()));
      await expect(makeDriver().connectVolume(CI, INSTANCE)).to.be.rejected.and.eventually.have.property('name', 'AbortError');
      expect(host.runner.run.callCount).to.equal(1);
    });

    it('detaches a hung mount lazily with a probe that cannot abort FUSE connections', async () => {
      host.addQuobyteMount(MOUNT_PATH);
      host.stats.set(MOUNT_PATH, { errno: 'ETIMEDOUT' });
      const { abortFuseConnection: _abort, realPath: _realPath, ...probe } = host.probe;
      await makeDriver({ probe }).connectVolume(CI, INSTANCE);
      expect(host.argv[0]).to.equal(`umount -l --no-canonicalize ${MOUNT_PATH}`);
    });

    it('still detaches a hung mount when aborting its connection fails', async () => {
      host.addQuobyteMount(MOUNT_PATH);
      host.stats.set(MOUNT_PATH, { errno: 'ETIMEDOUT' });
      host.probe.abortFuseConnection = sinon.spy((_minor: number) => Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' })));
      await makeDriver().connectVolume(CI, INSTANCE);
      expect(host.argv).to.deep.equal([`umount -l --no-canonicalize ${MOUNT_PATH}`, `mount.quobyte --disable-xattrs 192.168.1.1/volume-00001 ${MOUNT_PATH}`]);
    });

    it('wraps a probe failure it cannot classify as InvalidVolumeError', async () => {
      host.addQuobyteMount(MOUNT_PATH);
      host.stats.set(MOUNT_PATH, { errno: 'EACCES' });
      await expect(makeDriver().inspectMount(MOUNT_PATH)).to.be.rejectedWith(InvalidVolumeError, /could not be checked/);
    });
  });

  describe('disconnectVolume()', () => {
    it('reports busy for an EBUSY errno from a custom runner', async () => {
      const driver = makeDriver();
      await driver.connectVolume(CI, INSTANCE);
      host.runner.run = sinon.spy((_command: Command, _options?: RunOptions) => Promise.reject(Object.assign(new Error('busy'), { code: 'EBUSY' })));
      expect(await driver.disconnectVolume(CI, INSTANCE)).to.deep.equal({ unmounted: false, reason: 'busy' });
    });

    it('still reports the unmount when the directory cannot be removed', async () => {
      const driver = makeDriver();
      await driver.connectVolume(CI, INSTANCE);
      host.probe.removeDirectory = sinon.spy((_path: string) => Promise.reject(new Error('read-only file system')));
      expect(await driver.disconnectVolume(CI, INSTANCE)).to.deep.equal({ unmounted: true, reason: 'unmounted' });
    });
  });

  describe('extendVolume()', () => {
    it('refuses a negative size before touching anything', async () => {
      await expect(makeDriver().extendVolume(CI, INSTANCE, -1)).to.be.rejectedWith(InvalidConnectionInfoError, /requestedSize/);
      expect(host.probe.lstat.callCount).to.equal(0);
    });

    it('rejects with InvalidVolumeError when the image cannot be read', async () => {
      await expect(makeDriver().extendVolume(CI, INSTANCE, 1)).to.be.rejectedWith(InvalidVolumeError, /cannot be read/);
    });

    it('rejects a qcow2 volume whose header is not qcow2', async () => {
      host.lstats.set(IMAGE, fileStat(4096));
      host.files.set(IMAGE, new Uint8Array(64));
      await expect(makeDriver().extendVolume({ data: { ...CI.data, format: 'qcow2' } }, INSTANCE, 1)).to.be.rejectedWith(InvalidVolumeError, /not a qcow2 image/);
    });
  });

  describe('getConfig()', () => {
    it('refuses a missing disk_info and a negative SCSI unit', () => {
      const driver = makeDriver();
      expect(() => driver.getConfig(CI, null as never)).to.throw(InvalidConnectionInfoError, /disk_info/);
      expect(() => driver.getConfig(CI, { bus: 'scsi', dev: 'sdb', type: 'disk', unit: -1 })).to.throw(InvalidConnectionInfoError, /disk_info.unit/);
    });
  });
});
