import { readFileSync } from 'node:fs';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import sinon from 'sinon';
import { NfsVolumeDriver, type NfsVolumeDriverOptions } from '../../docs/examples/nfs-volume-driver.js';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { InvalidConnectionInfoError } from '../../lib/errors.js';
import { FakeHost } from '../support/fake-host.js';

use(chaiAsPromised);

// Nova's test_nfs.py export; its mount directory is md5('192.168.1.1:/nfs/share1').
const BASE = '/var/lib/nova/mnt';
const EXPORT = '192.168.1.1:/nfs/share1';
const MOUNT_PATH = `${BASE}/7238cae27f24b2984e2f10903a9c78a6`;
const INSTANCE = { uuid: '0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11' };

function connectionInfo(data: Partial<ConnectionInfo['data']> = {}): ConnectionInfo {
  return { driver_volume_type: 'nfs', data: { export: EXPORT, name: 'volume-00000001', ...data } };
}

function makeDriver(host: FakeHost, options: Partial<NfsVolumeDriverOptions> = {}): NfsVolumeDriver {
  return new NfsVolumeDriver({ mountPointBase: BASE, runner: host.runner, probe: host.probe, systemd: false, ...options });
}

describe('NfsVolumeDriver (docs/examples)', () => {
  let host: FakeHost;

  beforeEach(() => {
    host = new FakeHost();
  });

  afterEach(() => {
    sinon.restore();
  });

  it('is one short file: under 40 lines of code beside its comments', () => {
    const source = readFileSync(new URL('../../docs/examples/nfs-volume-driver.ts', import.meta.url), 'utf8');
    const code = source.split('\n').filter((line) => !/^\s*(\/\*\*|\*|\*\/|\/\/|$)/.test(line));
    expect(code.length).to.be.at.most(40);
  });

  it('detaches a hung NFS mount lazily without trying a FUSE abort', async () => {
    host.addNfsMount(MOUNT_PATH, EXPORT);
    host.stats.set(MOUNT_PATH, { errno: 'ETIMEDOUT' });
    await makeDriver(host).connectVolume(connectionInfo(), INSTANCE);
    expect(host.aborted).to.deep.equal([]);
    expect(host.argv[0]).to.equal(`umount -l --no-canonicalize ${MOUNT_PATH}`);
  });

  describe('paths', () => {
    it('puts the mount at <base>/<md5 of the export as given>, the directory Nova\'s NFS driver uses', () => {
      expect(makeDriver(host).getMountPath(connectionInfo())).to.equal(MOUNT_PATH);
    });
  });

  describe('mount command', () => {
    it('runs mount -t nfs4 <export> <mount path> without options', async () => {
      await makeDriver(host).connectVolume(connectionInfo(), INSTANCE);
      expect(host.argv).to.deep.equal([`mount -t nfs4 ${EXPORT} ${MOUNT_PATH}`]);
    });

    it('runs mount -t nfs4 -o <options> <export> <mount path> with mountOptions', async () => {
      await makeDriver(host, { mountOptions: 'vers=4.2,hard,timeo=600' }).connectVolume(connectionInfo(), INSTANCE);
      expect(host.argv).to.deep.equal([`mount -t nfs4 -o vers=4.2,hard,timeo=600 ${EXPORT} ${MOUNT_PATH}`]);
      expect(host.mounts.map((entry) => [entry.source, entry.fsType])).to.deep.equal([[EXPORT, 'nfs4']]);
    });

    it('runs it under systemd-run --scope where systemd runs', async () => {
      await makeDriver(host, { systemd: true }).connectVolume(connectionInfo(), INSTANCE);
      expect(host.argv).to.deep.equal([`systemd-run --scope mount -t nfs4 ${EXPORT} ${MOUNT_PATH}`]);
    });

    it('unmounts with umount <mount path>', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      await driver.disconnectVolume(connectionInfo(), INSTANCE);
      expect(host.argv).to.deep.equal([`mount -t nfs4 ${EXPORT} ${MOUNT_PATH}`, `umount --no-canonicalize ${MOUNT_PATH}`]);
    });
  });

  describe('isOwnMount()', () => {
    for (const fsType of ['nfs', 'nfs4']) {
      it(`reuses a mount of type ${fsType} without running anything`, async () => {
        host.addNfsMount(MOUNT_PATH, EXPORT, fsType);
        await makeDriver(host).connectVolume(connectionInfo(), INSTANCE);
        expect(host.commands).to.deep.equal([]);
      });
    }

    it('counts a FUSE or Quobyte mount at the path as foreign', async () => {
      host.addQuobyteMount(MOUNT_PATH);
      expect((await makeDriver(host).inspectMount(MOUNT_PATH)).state).to.equal('foreign');
    });
  });

  describe('checkExport()', () => {
    for (const good of ['server:/', 'nfs-1.example.com:/srv/cinder_volumes', '10.0.0.5:/export/vol-1', '[fd00::5]:/srv/cinder']) {
      it(`accepts ${good}`, () => {
        expect(() => makeDriver(host).resolveVolume(connectionInfo({ export: good }))).not.to.throw();
      });
    }

    const bad: Array<[string, string]> = [
      ['an option for mount', '-o:/x'],
      ['a leading -', '-server:/srv'],
      ['no path', 'server'],
      ['a relative path', 'server:srv/cinder'],
      ['no host', ':/srv/cinder'],
      ['whitespace in the path', 'server:/srv/cinder volumes'],
      ['whitespace in the host', 'ser ver:/srv'],
      ['a tab', 'server:/srv\tx'],
      ['a DEL character', 'server:/srv\u007f'],
      ['an unclosed IPv6 bracket', '[fd00::5:/srv'],
    ];
    for (const [what, exportName] of bad) {
      it(`refuses ${what} (${JSON.stringify(exportName).replace('\u007f', '\\u007f')}) before running anything`, async () => {
        await expect(makeDriver(host).connectVolume(connectionInfo({ export: exportName }), INSTANCE))
          .to.be.rejectedWith(InvalidConnectionInfoError)
          .and.eventually.have.property('field', 'data.export');
        expect(host.runner.run.callCount).to.equal(0);
      });
    }

    it('refuses connection info meant for another backend', () => {
      expect(() => makeDriver(host).getConfig({ ...connectionInfo(), driver_volume_type: 'quobyte' }, { bus: 'virtio', dev: 'vdb', type: 'disk' }))
        .to.throw(InvalidConnectionInfoError, /driver_volume_type/);
    });
  });

  describe('constructor', () => {
    for (const mountOptions of ['', '-o', 'vers=4.2, hard', 'vers=4.2\nhard']) {
      it(`throws TypeError for mountOptions ${JSON.stringify(mountOptions)}`, () => {
        expect(() => makeDriver(host, { mountOptions })).to.throw(TypeError, /mountOptions/);
      });
    }

    it('throws TypeError for a relative mountPointBase, as every FileSystemVolumeDriver does', () => {
      expect(() => new NfsVolumeDriver({ mountPointBase: 'mnt' })).to.throw(TypeError, /mountPointBase/);
    });
  });
});
