import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import sinon from 'sinon';
import type { Command, RunOptions } from '../../lib/commands/command-runner.js';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { MemoryAttachmentStore } from '../../lib/attachments/memory-attachment-store.js';
import { QuobyteVolumeDriver, type QuobyteVolumeDriverOptions } from '../../lib/drivers/quobyte-volume-driver.js';
import {
  CommandFailedError,
  InvalidConnectionInfoError,
  InvalidVolumeError,
  StaleVolumeMountError,
  VolumeMountError,
  VolumeUnmountError,
} from '../../lib/errors.js';
import type { FuseAbortResult } from '../../lib/filesystem/file-system-probe.js';
import { formatDiskXml } from '../../lib/libvirt/format-disk-xml.js';
import { FakeHost, directoryStat, fileStat as fileStatAt } from '../support/fake-host.js';
import { qcow2 } from '../images/qcow2-fixture.js';

use(chaiAsPromised);

// Nova's test_quobyte.py fixtures.
const BASE = '/mnt';
const EXPORT = 'quobyte://192.168.1.1/volume-00001';
const NORMALISED = '192.168.1.1/volume-00001';
const MOUNT_PATH = '/mnt/c94ed34ada0acf45c1213beb1fc52ce6';
const NAME = 'volume-00000001';
const DISK_INFO = { bus: 'virtio', dev: 'vde', type: 'disk' } as const;
const INSTANCE = { uuid: '0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11' };
const OTHER_INSTANCE = { uuid: '5d1f7e21-90a4-4a57-b3f8-4c7b7a9d3c02' };

function connectionInfo(data: Partial<ConnectionInfo['data']> = {}): ConnectionInfo {
  return { driver_volume_type: 'quobyte', data: { export: EXPORT, name: NAME, ...data } };
}

function makeDriver(host: FakeHost, options: Partial<QuobyteVolumeDriverOptions> = {}): QuobyteVolumeDriver {
  return new QuobyteVolumeDriver({ mountPointBase: BASE, runner: host.runner, probe: host.probe, systemd: false, ...options });
}

/** A stale mount as a crashed client leaves it. */
function staleMount(host: FakeHost, how: 'size' | 'enotconn' | 'hung'): void {
  host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
  if (how === 'size') host.stats.set(MOUNT_PATH, directoryStat(77, 1));
  if (how === 'enotconn') host.stats.set(MOUNT_PATH, { errno: 'ENOTCONN' });
  if (how === 'hung') host.stats.set(MOUNT_PATH, { errno: 'ETIMEDOUT' });
}

describe('QuobyteVolumeDriver', () => {
  let host: FakeHost;

  beforeEach(() => {
    host = new FakeHost();
  });

  afterEach(() => {
    sinon.restore();
  });

  describe('paths (Nova parity)', () => {
    it('strips one leading quobyte:// from the export (normalize_export_with_protocol)', () => {
      expect(makeDriver(host).resolveVolume(connectionInfo()).export).to.equal(NORMALISED);
    });

    it('keeps an export without the protocol unchanged (normalize_export_without_protocol)', () => {
      expect(makeDriver(host).resolveVolume(connectionInfo({ export: NORMALISED })).export).to.equal(NORMALISED);
    });

    it('puts the mount at <base>/<md5 of the normalised export>, as Nova and Cinder do', () => {
      const driver = makeDriver(host);
      expect(driver.getMountPath(connectionInfo())).to.equal(MOUNT_PATH);
      expect(driver.getMountPath(connectionInfo({ export: NORMALISED }))).to.equal(MOUNT_PATH);
      expect(new QuobyteVolumeDriver({ mountPointBase: '/var/lib/nova/mnt', runner: host.runner, probe: host.probe })
        .getMountPath(connectionInfo({ export: 'registry.example.com:7861/openstack-volumes' })))
        .to.equal('/var/lib/nova/mnt/260de2c005587c2c7495904caf626eec');
    });

    it('joins a base with a trailing slash as Python does', () => {
      expect(makeDriver(host, { mountPointBase: '/mnt/' }).getMountPath(connectionInfo())).to.equal(MOUNT_PATH);
    });

    it('puts the device at <mount path>/<name>', () => {
      expect(makeDriver(host).getDevicePath(connectionInfo())).to.equal(`${MOUNT_PATH}/${NAME}`);
    });
  });

  describe('systemd detection (Nova parity: is_systemd)', () => {
    for (const state of ['starting', 'running', 'degraded']) {
      it(`is true when PID 1 is systemd and the system is ${state}, and is detected once per driver`, async () => {
        host.init = 'systemd';
        host.systemState = state;
        const driver = makeDriver(host, { systemd: 'auto' });
        expect(await driver.usesSystemd()).to.equal(true);
        expect(await driver.usesSystemd()).to.equal(true);
        expect(host.argv).to.deep.equal(['systemctl is-system-running']);
        expect(host.runner.run.firstCall.args[1]?.okExitCodes).to.deep.equal([0, 1]);
        expect(host.probe.readInitProcessName.callCount).to.equal(1);
      });
    }

    it('is false without systemd as PID 1 or /run/systemd/system, and never runs systemctl', async () => {
      const driver = makeDriver(host, { systemd: 'auto' });
      expect(await driver.usesSystemd()).to.equal(false);
      expect(await driver.usesSystemd()).to.equal(false);
      expect(host.probe.pathExists.calledOnceWithExactly('/run/systemd/system')).to.equal(true);
      expect(host.commands).to.deep.equal([]);
    });

    it('is false when /run/systemd/system exists but the state is not usable', async () => {
      host.paths.add('/run/systemd/system');
      host.systemState = 'FAKE_UNACCEPTABLE_STATE';
      const driver = makeDriver(host, { systemd: 'auto' });
      expect(await driver.usesSystemd()).to.equal(false);
      expect(await driver.usesSystemd()).to.equal(false);
      expect(host.argv).to.deep.equal(['systemctl is-system-running']);
    });

    it('keeps each driver\'s answer to itself (no process-wide cache)', async () => {
      host.init = 'systemd';
      await makeDriver(host, { systemd: 'auto' }).usesSystemd();
      await makeDriver(host, { systemd: 'auto' }).usesSystemd();
      expect(host.argv).to.deep.equal(['systemctl is-system-running', 'systemctl is-system-running']);
    });
  });

  describe('mount command (Nova parity: privsep argv)', () => {
    for (const cfg of [undefined, '/FAKE/CFG/PATH.cfg']) {
      const suffix = cfg === undefined ? '' : ` -c ${cfg}`;

      it(`runs mount.quobyte --disable-xattrs <export> <mnt>${suffix} without systemd, after creating the directory`, async () => {
        await makeDriver(host, cfg === undefined ? {} : { clientConfigFile: cfg }).connectVolume(connectionInfo(), INSTANCE);
        expect(host.argv).to.deep.equal([`mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}${suffix}`]);
        expect(host.probe.ensureDirectory.calledOnceWithExactly(MOUNT_PATH)).to.equal(true);
        expect(host.probe.ensureDirectory.calledBefore(host.runner.run)).to.equal(true);
      });

      it(`runs systemd-run --scope mount.quobyte ...${suffix} under systemd`, async () => {
        await makeDriver(host, { systemd: true, ...(cfg === undefined ? {} : { clientConfigFile: cfg }) }).connectVolume(connectionInfo(), INSTANCE);
        expect(host.argv).to.deep.equal([`systemd-run --scope mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}${suffix}`]);
      });
    }

    it('unmounts with umount <mnt>', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      await driver.disconnectVolume(connectionInfo(), INSTANCE);
      expect(host.argv[1]).to.equal(`umount --no-canonicalize ${MOUNT_PATH}`);
    });

    it('rejects with VolumeMountError carrying the client\'s stderr when the mount fails (mount_volume_fails), and removes the directory it made', async () => {
      host.mountFailure = 'quobyte: registry unreachable';
      const error = await makeDriver(host).connectVolume(connectionInfo(), INSTANCE).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(VolumeMountError);
      expect((error as VolumeMountError).code).to.equal('ERR_VOLUME_MOUNT');
      expect((error as VolumeMountError).message).to.contain('quobyte: registry unreachable');
      expect((error as VolumeMountError).cause).to.be.instanceOf(CommandFailedError);
      expect(host.probe.ensureDirectory.calledBefore(host.runner.run)).to.equal(true);
      expect(host.directories.has(MOUNT_PATH)).to.equal(false);
      expect(await makeDriver(host).listAttachments()).to.have.property('size', 0);
    });
  });

  describe('inspectMount() (Nova parity: validate_volume)', () => {
    it('is healthy for a quobyte@ source with size 0, reading the table once and stat-ing once', async () => {
      host.mounts.push({ mountPoint: MOUNT_PATH, source: 'quobyte@', fsType: 'fuse', options: [] });
      host.stats.set(MOUNT_PATH, directoryStat(50));
      const health = await makeDriver(host).inspectMount(MOUNT_PATH);
      expect(health.state).to.equal('healthy');
      expect(host.probe.listMounts.callCount).to.equal(1);
      expect(host.probe.stat.calledOnceWith(MOUNT_PATH)).to.equal(true);
    });

    it('is healthy for type fuse.quobyte whatever the source', async () => {
      host.mounts.push({ mountPoint: MOUNT_PATH, source: 'not_quobyte', fsType: 'fuse.quobyte', options: [] });
      host.stats.set(MOUNT_PATH, directoryStat(50));
      expect((await makeDriver(host).inspectMount(MOUNT_PATH)).state).to.equal('healthy');
    });

    it('is stale when the root reports a size other than 0 (mount_not_working, stale_mount)', async () => {
      staleMount(host, 'size');
      const health = await makeDriver(host).inspectMount(MOUNT_PATH);
      expect(health).to.include({ state: 'stale', reason: 'nonzero-size' });
      expect(health.state === 'stale' && health.error).to.be.instanceOf(StaleVolumeMountError).and.instanceOf(InvalidVolumeError);
      expect(host.probe.listMounts.callCount).to.equal(1);
    });

    it('is absent with no mount-table entry (no_mtab_entry)', async () => {
      expect(await makeDriver(host).inspectMount(MOUNT_PATH)).to.deep.equal({ state: 'absent' });
    });

    it('is foreign for another file system (wrong_mount_type)', async () => {
      host.mounts.push({ mountPoint: MOUNT_PATH, source: 'not-quobyte', fsType: 'tmpfs', options: [] });
      expect((await makeDriver(host).inspectMount(MOUNT_PATH)).state).to.equal('foreign');
    });

    it('is stale, not an escaping error, when stat fails with ENOTCONN (differs from Nova, whose repair never ran)', async () => {
      staleMount(host, 'enotconn');
      expect(await makeDriver(host).inspectMount(MOUNT_PATH)).to.include({ state: 'stale', reason: 'not-connected' });
    });

    it('is stale (unresponsive) when stat gets no answer within probeTimeoutMs', async () => {
      staleMount(host, 'hung');
      const driver = makeDriver(host, { probeTimeoutMs: 250 });
      expect(await driver.inspectMount(MOUNT_PATH)).to.include({ state: 'stale', reason: 'unresponsive' });
      expect(host.probe.stat.firstCall.args[1]).to.deep.equal({ timeoutMs: 250 });
    });

    it('looks at the last entry for a path, the mount on top', async () => {
      host.mounts.push({ mountPoint: MOUNT_PATH, source: 'tmpfs', fsType: 'tmpfs', options: [] });
      host.addQuobyteMount(MOUNT_PATH);
      expect((await makeDriver(host).inspectMount(MOUNT_PATH)).state).to.equal('healthy');
    });
  });

  describe('connectVolume()', () => {
    it('repairs a stale mount: one umount, then one mount of the normalised export (driver_mount)', async () => {
      staleMount(host, 'size');
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      expect(host.argv).to.deep.equal([`umount --no-canonicalize ${MOUNT_PATH}`, `mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}`]);
      expect(host.mounts.map((entry) => entry.source)).to.deep.equal([`quobyte@${NORMALISED}`]);
      const xml = formatDiskXml(driver.getConfig(connectionInfo(), DISK_INFO));
      expect(xml).to.contain('<disk type="file" device="disk">');
      expect(xml).to.contain(`<source file="${MOUNT_PATH}/${NAME}"/>`);
    });

    it('reuses a healthy mount without running anything (already_mounted)', async () => {
      host.addQuobyteMount(MOUNT_PATH);
      await makeDriver(host).connectVolume(connectionInfo(), INSTANCE);
      expect(host.commands).to.deep.equal([]);
    });

    it('repairs a crashed client (ENOTCONN) by unmounting and mounting again (differs from Nova)', async () => {
      staleMount(host, 'enotconn');
      await makeDriver(host).connectVolume(connectionInfo(), INSTANCE);
      expect(host.argv).to.deep.equal([`umount --no-canonicalize ${MOUNT_PATH}`, `mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}`]);
    });

    it('falls back to a lazy unmount when the plain one of a stale mount fails', async () => {
      staleMount(host, 'enotconn');
      host.busy.add(MOUNT_PATH);
      await makeDriver(host).connectVolume(connectionInfo(), INSTANCE);
      expect(host.argv).to.deep.equal([`umount --no-canonicalize ${MOUNT_PATH}`, `umount -l --no-canonicalize ${MOUNT_PATH}`, `mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}`]);
    });

    it('replaces a hung mount: aborts its FUSE connection and detaches it lazily, never a plain umount', async () => {
      staleMount(host, 'hung');
      const minor = Number(host.mounts[0]?.device?.split(':')[1]);
      await makeDriver(host).connectVolume(connectionInfo(), INSTANCE);
      expect(host.aborted).to.deep.equal([minor]);
      expect(host.argv).to.deep.equal([`umount -l --no-canonicalize ${MOUNT_PATH}`, `mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}`]);
    });

    it('mounts fusectl once when it is missing, to abort a hung connection', async () => {
      staleMount(host, 'hung');
      const minor = Number(host.mounts[0]?.device?.split(':')[1]);
      const answers: FuseAbortResult[] = ['no-fusectl', 'aborted'];
      host.probe.abortFuseConnection = sinon.spy((connection: number) => {
        host.aborted.push(connection);
        return Promise.resolve(answers.shift() ?? 'aborted');
      });
      await makeDriver(host).connectVolume(connectionInfo(), INSTANCE);
      expect(host.aborted).to.deep.equal([minor, minor]);
      expect(host.argv[0]).to.equal('mount -t fusectl fusectl /sys/fs/fuse/connections');
      expect(host.argv.slice(1)).to.deep.equal([`umount -l --no-canonicalize ${MOUNT_PATH}`, `mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}`]);
    });

    it('counts a quobyte@ source as its own only on a FUSE mount', async () => {
      host.mounts.push({ mountPoint: MOUNT_PATH, source: 'quobyte@host:/home/quobyte', fsType: 'fuse.sshfs', options: [] }, { mountPoint: '/mnt/legacy', source: 'quobyte@reg/vol', fsType: 'fuse', options: [] });
      host.stats.set('/mnt/legacy', directoryStat(70));
      const driver = makeDriver(host);
      expect((await driver.inspectMount('/mnt/legacy')).state).to.equal('healthy');
      host.mounts[1] = { mountPoint: '/mnt/legacy', source: 'quobyte@reg/vol', fsType: 'nfs4', options: [] };
      expect((await driver.inspectMount('/mnt/legacy')).state).to.equal('foreign');
    });

    for (const fsType of ['fuse.sshfs', 'fuse.glusterfs', 'fuse.quobytex', 'fuseblk']) {
      it(`does not count ${fsType} with a quobyte@ source as its own, and never unmounts it`, async () => {
        host.mounts.push({ mountPoint: MOUNT_PATH, source: 'quobyte@host:/home/quobyte', fsType, options: [] });
        host.stats.set(MOUNT_PATH, directoryStat(0));
        const driver = makeDriver(host);
        expect((await driver.inspectMount(MOUNT_PATH)).state).to.equal('foreign');
        await expect(driver.connectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith(/holds another file system/);
        expect(host.argv).to.deep.equal([]);
      });
    }

    it('rejects with VolumeUnmountError when a stale mount cannot be removed at all, and mounts nothing', async () => {
      staleMount(host, 'size');
      host.runner.run = sinon.spy((command: Command) => Promise.reject(new CommandFailedError({ command, exitCode: 1, stdout: '', stderr: 'permission denied' })));
      await expect(makeDriver(host).connectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith(VolumeUnmountError);
      expect(host.runner.run.args.map(([command]) => [command.file, ...command.args].join(' '))).to.deep.equal([`umount --no-canonicalize ${MOUNT_PATH}`, `umount -l --no-canonicalize ${MOUNT_PATH}`]);
    });

    it('rejects with VolumeMountError when the mount is still not valid afterwards (Nova only logs)', async () => {
      const run = host.runner.run;
      host.runner.run = sinon.spy(async (command: Command, options?: RunOptions) => {
        const result = await run(command, options);
        host.stats.set(MOUNT_PATH, directoryStat(60, 4096)); // the new mount reports a size: not Quobyte
        return result;
      });
      const error = await makeDriver(host).connectVolume(connectionInfo(), INSTANCE).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(VolumeMountError);
      expect((error as VolumeMountError).cause).to.be.instanceOf(StaleVolumeMountError);
      expect(await makeDriver(host).listAttachments()).to.have.property('size', 0);
    });

    it('passes through a probe failure that is not about validity (mount_non_quobyte_volume)', async () => {
      const failure = Object.assign(new Error('EACCES: mountinfo'), { code: 'EACCES' });
      host.probe.listMounts = sinon.spy(() => Promise.reject(failure));
      await expect(makeDriver(host).connectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith(failure);
      expect(host.commands).to.deep.equal([]);
    });

    it('refuses to mount over another file system at the mount path, and leaves it alone', async () => {
      host.mounts.push({ mountPoint: MOUNT_PATH, source: 'tmpfs', fsType: 'tmpfs', options: [] });
      await expect(makeDriver(host).connectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith(InvalidVolumeError, /another file system \(tmpfs/);
      expect(host.commands).to.deep.equal([]);
      expect(host.mounts).to.have.length(1);
    });

    it('counts a mount that failed because another process mounted it meanwhile as success', async () => {
      host.runner.run = sinon.spy((command: Command) => {
        host.commands.push(command);
        host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
        return Promise.reject(new CommandFailedError({ command, exitCode: 4, stdout: '', stderr: 'already mounted' }));
      });
      await makeDriver(host).connectVolume(connectionInfo(), INSTANCE);
      expect(host.mounts).to.have.length(1);
    });

    it('refuses a disk image that is a symbolic link', async () => {
      host.addQuobyteMount(MOUNT_PATH);
      host.lstats.set(`${MOUNT_PATH}/${NAME}`, { size: 11, mode: 0o120777, uid: 0, gid: 0, isFile: false, isDirectory: false, isSymbolicLink: true });
      const driver = makeDriver(host);
      await expect(driver.connectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith(InvalidVolumeError, /symbolic link/);
      expect(await driver.listAttachments()).to.have.property('size', 0);
    });

    it('refuses a disk image that is a symbolic link on a share it has just mounted, and unmounts that share again', async () => {
      host.lstats.set(`${MOUNT_PATH}/${NAME}`, { size: 11, mode: 0o120777, uid: 0, gid: 0, isFile: false, isDirectory: false, isSymbolicLink: true });
      const driver = makeDriver(host);
      await expect(driver.connectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith(InvalidVolumeError, /symbolic link/);
      expect(host.argv).to.deep.equal([`mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}`, `umount --no-canonicalize ${MOUNT_PATH}`]);
      expect(host.mounts).to.deep.equal([]);
      expect(await driver.listAttachments()).to.have.property('size', 0);
    });

    it('refuses a disk image it cannot check (an error other than ENOENT)', async () => {
      host.addQuobyteMount(MOUNT_PATH);
      host.lstats.set(`${MOUNT_PATH}/${NAME}`, { errno: 'EIO' });
      await expect(makeDriver(host).connectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith(InvalidVolumeError, /could not be checked/);
    });

    it('unmounts the share it has just mounted when recording the attachment fails, and rethrows', async () => {
      const failure = new Error('disk full');
      const attachments = new MemoryAttachmentStore();
      attachments.add = () => Promise.reject(failure);
      const driver = makeDriver(host, { attachments });
      await expect(driver.connectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith(failure);
      expect(host.argv).to.deep.equal([`mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}`, `umount --no-canonicalize ${MOUNT_PATH}`]);
      expect(host.isMounted(MOUNT_PATH)).to.equal(false);
      expect(host.directories.has(MOUNT_PATH)).to.equal(false);
    });

    it('keeps a share it did not mount when recording the attachment fails', async () => {
      host.addQuobyteMount(MOUNT_PATH);
      const attachments = new MemoryAttachmentStore();
      attachments.add = () => Promise.reject(new Error('disk full'));
      await expect(makeDriver(host, { attachments }).connectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith('disk full');
      expect(host.commands).to.deep.equal([]);
      expect(host.isMounted(MOUNT_PATH)).to.equal(true);
    });

    it('takes the fast path on a mount it validated: one stat, no mount-table read, no process', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      host.probe.listMounts.resetHistory();
      host.probe.stat.resetHistory();
      host.runner.run.resetHistory();
      await driver.connectVolume(connectionInfo(), OTHER_INSTANCE);
      expect(host.probe.listMounts.callCount).to.equal(0);
      expect(host.probe.stat.callCount).to.equal(1);
      expect(host.runner.run.callCount).to.equal(0);
    });

    it('gates the disk image at every connect, never from a cache (an image swapped for a link is caught at once)', async () => {
      const image = `${MOUNT_PATH}/${NAME}`;
      host.lstats.set(image, fileStatAt(4096));
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      await driver.connectVolume(connectionInfo(), OTHER_INSTANCE);
      expect(host.probe.lstat.args.filter(([path]) => path === image)).to.have.length(2);
      host.lstats.set(image, { size: 11, mode: 0o120777, uid: 0, gid: 0, isFile: false, isDirectory: false, isSymbolicLink: true });
      await expect(driver.connectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith(InvalidVolumeError, /link/);
    });

    it('leaves the fast path when the device changed behind its back, and checks the table', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      host.mounts = [];
      host.stats.delete(MOUNT_PATH); // unmounted by someone else: the path shows the parent's device
      host.probe.listMounts.resetHistory();
      await driver.connectVolume(connectionInfo(), OTHER_INSTANCE);
      expect(host.probe.listMounts.callCount).to.be.greaterThan(0);
      expect(host.argv.filter((argv) => argv.startsWith('mount.quobyte'))).to.have.length(2);
    });

    it('runs the full check every time with revalidateAfterMs 0', async () => {
      const driver = makeDriver(host, { revalidateAfterMs: 0 });
      await driver.connectVolume(connectionInfo(), INSTANCE);
      host.probe.listMounts.resetHistory();
      await driver.connectVolume(connectionInfo(), OTHER_INSTANCE);
      expect(host.probe.listMounts.callCount).to.equal(1);
    });

    it('rejects with AbortError and runs nothing for an aborted signal', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(makeDriver(host).connectVolume(connectionInfo(), INSTANCE, { signal: controller.signal })).to.be.rejected.and.eventually.have.property('name', 'AbortError');
      expect(host.commands).to.deep.equal([]);
    });
  });

  describe('disconnectVolume()', () => {
    it('unmounts once after connect and disconnect on a healthy mount (driver_umount)', async () => {
      host.addQuobyteMount(MOUNT_PATH);
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      expect(await driver.disconnectVolume(connectionInfo(), INSTANCE)).to.deep.equal({ unmounted: true, reason: 'unmounted' });
      expect(host.argv).to.deep.equal([`umount --no-canonicalize ${MOUNT_PATH}`]);
      expect(host.isMounted(MOUNT_PATH)).to.equal(false);
      expect(host.directories.has(MOUNT_PATH)).to.equal(false);
    });

    it('unmounts twice over a stale-repair connect and a disconnect of a qcow2 volume (driver_qcow2)', async () => {
      staleMount(host, 'size');
      host.lstats.set(`${MOUNT_PATH}/${NAME}`, fileStatAt(196_608));
      host.files.set(`${MOUNT_PATH}/${NAME}`, qcow2());
      const driver = makeDriver(host);
      const ci = connectionInfo({ format: 'qcow2' });
      await driver.connectVolume(ci, INSTANCE);
      const xml = formatDiskXml(driver.getConfig(ci, DISK_INFO));
      expect(xml).to.contain('type="qcow2"');
      expect(xml).to.contain('<disk type="file"');
      await driver.disconnectVolume(ci, INSTANCE);
      expect(host.argv.filter((argv) => argv === `umount --no-canonicalize ${MOUNT_PATH}`)).to.have.length(2);
      expect(host.argv.filter((argv) => argv.startsWith('mount.quobyte'))).to.have.length(1);
    });

    it('keeps the share while another guest still uses it (differs from Nova, which unmounted and hoped for EBUSY)', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      await driver.connectVolume(connectionInfo({ name: 'volume-00000002' }), OTHER_INSTANCE);
      expect(await driver.disconnectVolume(connectionInfo(), INSTANCE)).to.deep.equal({ unmounted: false, reason: 'in-use' });
      expect(host.isMounted(MOUNT_PATH)).to.equal(true);
      expect(await driver.disconnectVolume(connectionInfo({ name: 'volume-00000002' }), OTHER_INSTANCE)).to.deep.equal({ unmounted: true, reason: 'unmounted' });
      expect(host.argv.filter((argv) => argv.startsWith('umount'))).to.deep.equal([`umount --no-canonicalize ${MOUNT_PATH}`]);
    });

    it('counts the same volume attached to two guests (multiattach) as two attachments', async () => {
      const driver = makeDriver(host);
      const ci = { ...connectionInfo({ volume_id: 'vol-1' }), multiattach: true };
      await driver.connectVolume(ci, INSTANCE);
      await driver.connectVolume(ci, OTHER_INSTANCE);
      expect(await driver.disconnectVolume(ci, INSTANCE)).to.deep.equal({ unmounted: false, reason: 'in-use' });
      expect((await driver.listAttachments()).get(MOUNT_PATH)).to.deep.equal([`${OTHER_INSTANCE.uuid}/vol-1`]);
    });

    it('reports busy without throwing when the kernel refuses the unmount (umount_volume_warns)', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      host.busy.add(MOUNT_PATH);
      expect(await driver.disconnectVolume(connectionInfo(), INSTANCE)).to.deep.equal({ unmounted: false, reason: 'busy' });
      expect(host.isMounted(MOUNT_PATH)).to.equal(true);
      expect(host.runner.run.lastCall.args[1]?.env).to.deep.equal({ LC_ALL: 'C' });
      expect(await driver.listAttachments()).to.have.property('size', 0);
    });

    it('throws VolumeUnmountError for any other unmount failure (umount_volume_fails; Nova only logs)', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      const run = host.runner.run;
      host.runner.run = sinon.spy(async (command: Command, options?: RunOptions) => {
        if (command.file === 'umount') throw new CommandFailedError({ command, exitCode: 1, stdout: '', stderr: 'umount: only root can do that' });
        return run(command, options);
      });
      await expect(driver.disconnectVolume(connectionInfo(), INSTANCE)).to.be.rejectedWith(VolumeUnmountError, /only root/);
      expect(host.isMounted(MOUNT_PATH)).to.equal(true);
    });

    it('says not-mounted when someone else unmounted the share between its check and its umount', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      const run = host.runner.run;
      host.runner.run = sinon.spy(async (command: Command, options?: RunOptions) => {
        if (command.file === 'umount') {
          host.mounts = [];
          throw new CommandFailedError({ command, exitCode: 32, stdout: '', stderr: `umount: ${MOUNT_PATH}: not mounted.` });
        }
        return run(command, options);
      });
      expect(await driver.disconnectVolume(connectionInfo(), INSTANCE)).to.deep.equal({ unmounted: false, reason: 'not-mounted' });
      expect(host.directories.has(MOUNT_PATH)).to.equal(false);
    });

    it('unmounts a stale mount when its last attachment goes', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      host.stats.set(MOUNT_PATH, { errno: 'ENOTCONN' });
      expect(await driver.disconnectVolume(connectionInfo(), INSTANCE)).to.deep.equal({ unmounted: true, reason: 'unmounted' });
      expect(host.isMounted(MOUNT_PATH)).to.equal(false);
    });

    it('says not-mounted when nothing is mounted', async () => {
      expect(await makeDriver(host).disconnectVolume(connectionInfo(), INSTANCE)).to.deep.equal({ unmounted: false, reason: 'not-mounted' });
      expect(host.commands).to.deep.equal([]);
    });

    it('never unmounts or removes a foreign file system at the mount path', async () => {
      host.mounts.push({ mountPoint: MOUNT_PATH, source: 'tmpfs', fsType: 'tmpfs', options: [] });
      host.directories.add(MOUNT_PATH);
      expect(await makeDriver(host).disconnectVolume(connectionInfo(), INSTANCE)).to.deep.equal({ unmounted: false, reason: 'not-mounted' });
      expect(host.commands).to.deep.equal([]);
      expect(host.probe.removeDirectory.callCount).to.equal(0);
      expect(host.directories.has(MOUNT_PATH)).to.equal(true);
    });
  });

  describe('locking', () => {
    it('lets two exports mount at the same time', async () => {
      let release!: () => void;
      host.mountGate = new Promise((resolve) => { release = resolve; });
      const driver = makeDriver(host);
      const first = driver.connectVolume(connectionInfo(), INSTANCE);
      const second = driver.connectVolume(connectionInfo({ export: 'registry2:7861/other' }), INSTANCE);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(host.argv.filter((argv) => argv.startsWith('mount.quobyte'))).to.have.length(2);
      release();
      await Promise.all([first, second]);
      expect(driver.activeLockCount).to.equal(0);
    });

    it('serialises one export: the second connect waits and then reuses the mount', async () => {
      let release!: () => void;
      host.mountGate = new Promise((resolve) => { release = resolve; });
      const driver = makeDriver(host);
      const first = driver.connectVolume(connectionInfo(), INSTANCE);
      const second = driver.connectVolume(connectionInfo(), OTHER_INSTANCE);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(host.argv).to.have.length(1);
      expect(driver.activeLockCount).to.equal(1);
      release();
      await Promise.all([first, second]);
      expect(host.argv).to.have.length(1);
      expect((await driver.listAttachments()).get(MOUNT_PATH)).to.have.length(2);
      expect(driver.activeLockCount).to.equal(0);
    });
  });

  describe('bad input', () => {
    const hostile: Array<[string, unknown]> = [
      ['an export starting with -', connectionInfo({ export: '--help/x' })],
      ['an export with an option after the protocol', connectionInfo({ export: 'quobyte://-o/x' })],
      ['an export without a volume', connectionInfo({ export: 'registry:7861' })],
      ['an export with a space', connectionInfo({ export: 'registry /vol' })],
      ['an export with a port out of range', connectionInfo({ export: 'registry:99999/vol' })],
      ['an export with a path below the volume', connectionInfo({ export: 'registry/vol/../../etc' })],
      ['an export volume of ..', connectionInfo({ export: 'registry/..' })],
      ['a name with /', connectionInfo({ name: '../../etc/passwd' })],
      ['an absolute name', connectionInfo({ name: '/etc/passwd' })],
      ['a name of ..', connectionInfo({ name: '..' })],
      ['a name with NUL', connectionInfo({ name: 'vol\u0000x' })],
      ['a name with a newline', connectionInfo({ name: 'vol\nx' })],
      ['an unknown format', connectionInfo({ format: 'vmdk' as 'raw' })],
      ['an unknown access mode', connectionInfo({ access_mode: 'rwx' as 'rw' })],
      ['a missing name', { data: { export: EXPORT } }],
      ['a missing export', { data: { name: NAME } }],
      ['a number as export', { data: { export: 42, name: NAME } }],
      ['null data', { data: null }],
      ['null connection info', null],
      ['another driver type', { driver_volume_type: 'nfs', data: { export: NORMALISED, name: NAME } }],
    ];

    for (const [what, ci] of hostile) {
      it(`refuses ${what} with InvalidConnectionInfoError, running and creating nothing`, async () => {
        const driver = makeDriver(host);
        await expect(driver.connectVolume(ci as ConnectionInfo, INSTANCE)).to.be.rejectedWith(InvalidConnectionInfoError);
        await expect(driver.disconnectVolume(ci as ConnectionInfo, INSTANCE)).to.be.rejectedWith(InvalidConnectionInfoError);
        expect(() => driver.getConfig(ci as ConnectionInfo, DISK_INFO)).to.throw(InvalidConnectionInfoError);
        expect(host.runner.run.callCount).to.equal(0);
        expect(host.probe.ensureDirectory.callCount).to.equal(0);
        expect(host.probe.listMounts.callCount).to.equal(0);
      });
    }

    it('accepts unusual but harmless names and exports', () => {
      const driver = makeDriver(host);
      for (const data of [
        { name: 'volume-3f1b2d3c.1e2f3a4b-5c6d' },
        { name: 'disk image (copy).qcow2' },
        { name: 'äöü-卷' },
        { export: 'reg1:7861,reg2:7861,10.0.0.3/openstack volumes'.replace(' ', '_') },
        { export: '[fd00::1]:7861/vol' },
      ]) {
        expect(() => driver.resolveVolume(connectionInfo(data))).not.to.throw();
      }
    });

    it('refuses a bad instance and a bad disk_info', async () => {
      const driver = makeDriver(host);
      await expect(driver.connectVolume(connectionInfo(), { uuid: 'a/b' })).to.be.rejectedWith(InvalidConnectionInfoError);
      expect(() => driver.getConfig(connectionInfo(), { bus: 'virtio', dev: 'vdb"/><x', type: 'disk' })).to.throw(InvalidConnectionInfoError);
      expect(host.runner.run.callCount).to.equal(0);
    });

    it('throws TypeError for bad constructor options', () => {
      expect(() => new QuobyteVolumeDriver({ mountPointBase: 'relative' })).to.throw(TypeError, /absolute path/);
      expect(() => new QuobyteVolumeDriver({ mountPointBase: '/mnt', probeTimeoutMs: -1 })).to.throw(TypeError, /probeTimeoutMs/);
      // A timer longer than 2^31 - 1 ms fires at once: every mount would look hung.
      expect(() => new QuobyteVolumeDriver({ mountPointBase: '/mnt', probeTimeoutMs: 2 ** 31 })).to.throw(TypeError, /probeTimeoutMs/);
      expect(() => new QuobyteVolumeDriver({ mountPointBase: '/mnt', systemd: 'yes' as 'auto' })).to.throw(TypeError, /systemd/);
      expect(() => new QuobyteVolumeDriver({ mountPointBase: '/mnt', clientConfigFile: '-o evil' })).to.throw(TypeError, /clientConfigFile/);
    });
  });

  describe('extendVolume()', () => {
    it('reports the raw image size once it reaches the requested size', async () => {
      host.lstats.set(`${MOUNT_PATH}/${NAME}`, { size: 2 * 1024 ** 3, mode: 0o100644, uid: 0, gid: 0, isFile: true, isDirectory: false, isSymbolicLink: false });
      expect(await makeDriver(host).extendVolume(connectionInfo(), INSTANCE, 2 * 1024 ** 3)).to.equal(2 * 1024 ** 3);
    });

    it('reports a qcow2 image\'s virtual size from its header', async () => {
      const header = new Uint8Array(32);
      const view = new DataView(header.buffer);
      view.setUint32(0, 0x514649fb);
      view.setBigUint64(24, 3n * 1024n ** 3n);
      host.files.set(`${MOUNT_PATH}/${NAME}`, header);
      host.lstats.set(`${MOUNT_PATH}/${NAME}`, { size: 196_608, mode: 0o100644, uid: 0, gid: 0, isFile: true, isDirectory: false, isSymbolicLink: false });
      expect(await makeDriver(host).extendVolume(connectionInfo({ format: 'qcow2' }), INSTANCE, 3 * 1024 ** 3)).to.equal(3 * 1024 ** 3);
    });

    it('rejects with InvalidVolumeError when the image stays smaller than requested', async () => {
      host.lstats.set(`${MOUNT_PATH}/${NAME}`, { size: 1024, mode: 0o100644, uid: 0, gid: 0, isFile: true, isDirectory: false, isSymbolicLink: false });
      await expect(makeDriver(host, { commandTimeoutMs: 150 }).extendVolume(connectionInfo(), INSTANCE, 4096)).to.be.rejectedWith(InvalidVolumeError, /less than the requested 4096/);
    });

    it('refuses a symbolic link as the image', async () => {
      host.lstats.set(`${MOUNT_PATH}/${NAME}`, { size: 10, mode: 0o120777, uid: 0, gid: 0, isFile: false, isDirectory: false, isSymbolicLink: true });
      await expect(makeDriver(host).extendVolume(connectionInfo(), INSTANCE, 1)).to.be.rejectedWith(InvalidVolumeError, /not a regular file/);
    });
  });

  describe('restoreAttachments()', () => {
    it('rebuilds the store from the guests the caller knows', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo({ export: 'gone/vol' }), INSTANCE);
      await driver.restoreAttachments([
        { connectionInfo: connectionInfo({ volume_id: 'v1' }), instance: INSTANCE },
        { connectionInfo: connectionInfo({ volume_id: 'v2' }), instance: OTHER_INSTANCE },
      ]);
      expect([...(await driver.listAttachments())]).to.deep.equal([[MOUNT_PATH, [`${INSTANCE.uuid}/v1`, `${OTHER_INSTANCE.uuid}/v2`]]]);
    });

    it('changes nothing when one entry is invalid', async () => {
      const driver = makeDriver(host);
      await driver.connectVolume(connectionInfo(), INSTANCE);
      await expect(driver.restoreAttachments([
        { connectionInfo: connectionInfo({ volume_id: 'v1' }), instance: INSTANCE },
        { connectionInfo: connectionInfo({ name: '../x' }), instance: INSTANCE },
      ])).to.be.rejectedWith(InvalidConnectionInfoError);
      expect((await driver.listAttachments()).get(MOUNT_PATH)).to.deep.equal([`${INSTANCE.uuid}/${NAME}`]);
    });
  });
});
