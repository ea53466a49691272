/**
 * The behaviour every {@link FileSystemVolumeDriver} must show, whatever it mounts. Each backend's
 * spec runs it with a setup that builds the driver on a {@link FakeHost}:
 *
 * ```ts
 * describeVolumeDriverContract('QuobyteVolumeDriver', (host, options) => ({
 *   driver: new QuobyteVolumeDriver(options),
 *   connectionInfo: (data = {}) => ({ driver_volume_type: 'quobyte', data: { export: 'registry/vol', name: 'volume-1', ...data } }),
 *   otherExport: 'registry2/vol',
 * }));
 * ```
 *
 * The FakeHost's runner must understand the backend's mount command (it knows `mount.quobyte`
 * and `mount -t nfs|nfs4`), so a mount shows up in its table.
 */
import { createHash } from 'node:crypto';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import sinon from 'sinon';
import type { CommandRunner } from '../../lib/commands/command-runner.js';
import type { ConnectionData, ConnectionInfo, InstanceRef } from '../../lib/drivers/connection-info.js';
import type { FileSystemVolumeDriver } from '../../lib/drivers/file-system-volume-driver.js';
import { InvalidConnectionInfoError, InvalidVolumeError, VolumeMountError, VolumeUnresponsiveError } from '../../lib/errors.js';
import type { FileSystemProbe } from '../../lib/filesystem/file-system-probe.js';
import { formatDiskXml } from '../../lib/libvirt/format-disk-xml.js';
import { FakeHost } from '../support/fake-host.js';

use(chaiAsPromised);

/** What the contract builds every driver with; spread it into the backend's constructor options. */
export interface ContractDriverOptions {
  mountPointBase: string;
  runner: CommandRunner;
  probe: FileSystemProbe;
  systemd: boolean;
}

/** A driver under test and how to address volumes on its backend. */
export interface VolumeDriverContractSubject {
  driver: FileSystemVolumeDriver;
  /** Valid connection info for this backend, with `data` fields replaced by `data`. */
  connectionInfo(data?: Partial<ConnectionData>): ConnectionInfo;
  /** A second valid export, on another mount path than the default one. */
  otherExport: string;
}

/** Builds the driver under test on `host` with `options` (and whatever else the backend needs). */
export type VolumeDriverContractSetup = (host: FakeHost, options: ContractDriverOptions) => VolumeDriverContractSubject;

const BASE = '/var/lib/contract/mnt';
const DISK_INFO = { bus: 'virtio', dev: 'vdb', type: 'disk' } as const;
const GUEST_A: InstanceRef = { uuid: '0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11' };
const GUEST_B: InstanceRef = { uuid: '5d1f7e21-90a4-4a57-b3f8-4c7b7a9d3c02' };

function argvOf(command: { file: string; args: readonly string[] }): string {
  return [command.file, ...command.args].join(' ');
}

/** Lets queued promise callbacks and timers run, so a racing call reaches its lock or its command. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Defines `<name> (VolumeDriver contract)`: the mount life cycle, sharing, repair, refusal of bad
 * input and the lock per mount point, asserted on the argv the runner got and on the fake mount
 * table.
 */
export function describeVolumeDriverContract(name: string, setup: VolumeDriverContractSetup): void {
  describe(`${name} (VolumeDriver contract)`, () => {
    let host: FakeHost;
    let driver: FileSystemVolumeDriver;
    let ci: (data?: Partial<ConnectionData>) => ConnectionInfo;
    let otherExport: string;
    let mountPath: string;

    function build(systemd = false): FileSystemVolumeDriver {
      const subject = setup(host, { mountPointBase: BASE, runner: host.runner, probe: host.probe, systemd });
      ci = (data) => subject.connectionInfo(data);
      otherExport = subject.otherExport;
      return subject.driver;
    }

    beforeEach(() => {
      host = new FakeHost();
      driver = build();
      mountPath = driver.getMountPath(ci());
    });

    afterEach(() => {
      sinon.restore();
    });

    describe('paths', () => {
      it('puts the mount at <base>/<md5 hex of the normalised export>', () => {
        const { export: normalised } = driver.resolveVolume(ci());
        expect(mountPath).to.equal(`${BASE}/${createHash('md5').update(normalised, 'utf8').digest('hex')}`);
      });

      it('puts the device at <mount path>/<name>', () => {
        expect(driver.getDevicePath(ci({ name: 'volume-42' }))).to.equal(`${mountPath}/volume-42`);
      });

      it('gives another export another mount path', () => {
        expect(driver.getMountPath(ci({ export: otherExport }))).not.to.equal(mountPath);
      });
    });

    describe('getConfig()', () => {
      it('gives libvirt the device path as the source file, and touches nothing on the host', () => {
        const config = driver.getConfig(ci(), DISK_INFO);
        expect(config.sourcePath).to.equal(driver.getDevicePath(ci()));
        expect(config.sourceType).to.equal('file');
        expect(formatDiskXml(config)).to.contain(`<source file="${driver.getDevicePath(ci())}"/>`);
        expect(host.runner.run.callCount).to.equal(0);
        expect(host.probe.listMounts.callCount).to.equal(0);
      });
    });

    describe('connectVolume()', () => {
      it('creates the directory, then runs the backend\'s mount command once', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        expect(host.argv).to.deep.equal([argvOf(await driver.mountCommandFor(ci()))]);
        expect(host.probe.ensureDirectory.calledWithExactly(mountPath)).to.equal(true);
        expect(host.probe.ensureDirectory.calledBefore(host.runner.run)).to.equal(true);
        expect(host.isMounted(mountPath)).to.equal(true);
        expect((await driver.listAttachments()).get(mountPath)).to.have.length(1);
      });

      it('reuses a healthy mount without running anything', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        await driver.connectVolume(ci({ name: 'volume-2' }), GUEST_A);
        await build().connectVolume(ci(), GUEST_B);
        expect(host.commands).to.have.length(1);
        expect(host.mounts).to.have.length(1);
      });

      it('wraps the mount command in systemd-run --scope under systemd', async () => {
        const command = await build(true).mountCommandFor(ci());
        const plain = await build(false).mountCommandFor(ci());
        expect(command).to.deep.equal({ file: 'systemd-run', args: ['--scope', plain.file, ...plain.args] });
      });

      it('repairs a stale mount (client gone, ENOTCONN): unmounts it, then mounts again', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        const mount = argvOf(await driver.mountCommandFor(ci()));
        host.stats.set(mountPath, { errno: 'ENOTCONN' });
        await driver.connectVolume(ci(), GUEST_B);
        expect(host.argv).to.deep.equal([mount, `umount --no-canonicalize ${mountPath}`, mount]);
        expect((await driver.inspectMount(mountPath)).state).to.equal('healthy');
      });

      it('detaches a hung mount nobody uses lazily, never with a plain umount (which would hang too)', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        await driver.restoreAttachments([]);
        host.stats.set(mountPath, { errno: 'ETIMEDOUT' });
        expect(await driver.connectVolume(ci(), GUEST_B)).to.include({ action: 'repaired', staleReason: 'unresponsive' });
        expect(host.argv.filter((argv) => argv.startsWith('umount'))).to.deep.equal([`umount -l --no-canonicalize ${mountPath}`]);
        expect(host.mounts).to.have.length(1);
      });

      it('leaves a hung mount in use alone (slow is not dead): VolumeUnresponsiveError, nothing run, nothing recorded', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        host.stats.set(mountPath, { errno: 'ETIMEDOUT' });
        const before = host.commands.length;
        await expect(driver.connectVolume(ci(), GUEST_B)).to.be.rejectedWith(VolumeUnresponsiveError);
        expect(host.commands.slice(before)).to.deep.equal([]);
        expect(host.aborted).to.deep.equal([]);
        expect(host.mounts).to.have.length(1);
        expect([...(await driver.listAttachments()).values()].flat()).to.have.length(1);
      });

      it('repairs a hung mount in use only when forced, lazily', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        host.stats.set(mountPath, { errno: 'ETIMEDOUT' });
        expect(await driver.connectVolume(ci(), GUEST_B, { forceRepair: true })).to.include({ action: 'repaired' });
        expect(host.argv.filter((argv) => argv.startsWith('umount'))).to.deep.equal([`umount -l --no-canonicalize ${mountPath}`]);
        expect(host.mounts).to.have.length(1);
      });

      it('never mounts over a foreign file system, and leaves it alone', async () => {
        host.mounts.push({ mountPoint: mountPath, source: 'tmpfs', fsType: 'tmpfs', options: [] });
        host.directories.add(mountPath);
        await expect(driver.connectVolume(ci(), GUEST_A)).to.be.rejectedWith(InvalidVolumeError);
        expect(host.commands).to.deep.equal([]);
        expect(host.mounts).to.have.length(1);
        expect(await driver.listAttachments()).to.have.property('size', 0);
      });

      it('rejects with VolumeMountError when the mount fails, keeping no directory and no attachment', async () => {
        host.mountFailure = 'server not responding';
        await expect(driver.connectVolume(ci(), GUEST_A)).to.be.rejectedWith(VolumeMountError, /server not responding/);
        expect(host.directories.has(mountPath)).to.equal(false);
        expect(await driver.listAttachments()).to.have.property('size', 0);
        expect(driver.activeLockCount).to.equal(0);
      });

      it('rejects with AbortError and runs nothing for an aborted signal', async () => {
        const controller = new AbortController();
        controller.abort();
        await expect(driver.connectVolume(ci(), GUEST_A, { signal: controller.signal })).to.be.rejected.and.eventually.have.property('name', 'AbortError');
        expect(host.commands).to.deep.equal([]);
      });
    });

    describe('disconnectVolume()', () => {
      it('unmounts on the last disconnect and removes the directory', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        expect(await driver.disconnectVolume(ci(), GUEST_A)).to.deep.equal({ unmounted: true, reason: 'unmounted' });
        expect(host.argv.slice(1)).to.deep.equal([`umount --no-canonicalize ${mountPath}`]);
        expect(host.isMounted(mountPath)).to.equal(false);
        expect(host.directories.has(mountPath)).to.equal(false);
        expect(await driver.listAttachments()).to.have.property('size', 0);
      });

      it('shares one mount between two guests and unmounts only when the second goes', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        await driver.connectVolume(ci({ name: 'volume-2' }), GUEST_B);
        expect(host.commands).to.have.length(1);
        expect(await driver.disconnectVolume(ci(), GUEST_A)).to.deep.equal({ unmounted: false, reason: 'in-use' });
        expect(host.isMounted(mountPath)).to.equal(true);
        expect(host.commands).to.have.length(1);
        expect(await driver.disconnectVolume(ci({ name: 'volume-2' }), GUEST_B)).to.deep.equal({ unmounted: true, reason: 'unmounted' });
        expect(host.isMounted(mountPath)).to.equal(false);
      });

      it('reports busy without throwing when the kernel refuses the unmount, and forgets the attachment', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        host.busy.add(mountPath);
        expect(await driver.disconnectVolume(ci(), GUEST_A)).to.deep.equal({ unmounted: false, reason: 'busy' });
        expect(host.isMounted(mountPath)).to.equal(true);
        expect(await driver.listAttachments()).to.have.property('size', 0);
      });

      it('unmounts a stale mount when its last attachment goes', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        host.stats.set(mountPath, { errno: 'ENOTCONN' });
        expect(await driver.disconnectVolume(ci(), GUEST_A)).to.deep.equal({ unmounted: true, reason: 'unmounted' });
        expect(host.isMounted(mountPath)).to.equal(false);
      });

      it('says not-mounted and runs nothing when nothing is mounted', async () => {
        expect(await driver.disconnectVolume(ci(), GUEST_A)).to.deep.equal({ unmounted: false, reason: 'not-mounted' });
        expect(host.commands).to.deep.equal([]);
      });

      it('never unmounts or removes a foreign file system at the mount path', async () => {
        host.mounts.push({ mountPoint: mountPath, source: 'tmpfs', fsType: 'tmpfs', options: [] });
        host.directories.add(mountPath);
        expect(await driver.disconnectVolume(ci(), GUEST_A)).to.deep.equal({ unmounted: false, reason: 'not-mounted' });
        expect(host.commands).to.deep.equal([]);
        expect(host.probe.removeDirectory.callCount).to.equal(0);
        expect(host.directories.has(mountPath)).to.equal(true);
      });
    });

    describe('bad input', () => {
      const names: Array<[string, string]> = [
        ['a name with /', '../../etc/passwd'],
        ['an absolute name', '/etc/passwd'],
        ['a name of ..', '..'],
        ['a name of .', '.'],
        ['an empty name', ''],
        ['a name with NUL', 'vol\u0000x'],
        ['a name with a newline', 'vol\nx'],
      ];
      for (const [what, badName] of names) {
        it(`refuses ${what} with InvalidConnectionInfoError, never calling the runner`, async () => {
          const bad = ci({ name: badName });
          await expect(driver.connectVolume(bad, GUEST_A)).to.be.rejectedWith(InvalidConnectionInfoError);
          await expect(driver.disconnectVolume(bad, GUEST_A)).to.be.rejectedWith(InvalidConnectionInfoError);
          expect(() => driver.getConfig(bad, DISK_INFO)).to.throw(InvalidConnectionInfoError);
          expect(host.runner.run.callCount).to.equal(0);
          expect(host.probe.ensureDirectory.callCount).to.equal(0);
        });
      }

      it('refuses an export that starts with -, or holds whitespace or control characters, never calling the runner', async () => {
        const { export: good } = ci().data;
        for (const badExport of [`-${good}`, `-o${good}`, ` ${good}`, `${good} x`, `${good}\tx`, `${good}\u0000`]) {
          await expect(driver.connectVolume(ci({ export: badExport }), GUEST_A), JSON.stringify(badExport)).to.be.rejectedWith(InvalidConnectionInfoError);
        }
        expect(host.runner.run.callCount).to.equal(0);
        expect(host.probe.ensureDirectory.callCount).to.equal(0);
      });

      it('refuses another driver_volume_type', () => {
        expect(() => driver.getConfig({ ...ci(), driver_volume_type: 'not-this-backend' }, DISK_INFO)).to.throw(InvalidConnectionInfoError, /driver_volume_type/);
      });
    });

    describe('locking', () => {
      it('locks per mount point: two exports mount at the same time', async () => {
        let release!: () => void;
        host.mountGate = new Promise((resolve) => { release = resolve; });
        const first = driver.connectVolume(ci(), GUEST_A);
        const second = driver.connectVolume(ci({ export: otherExport }), GUEST_A);
        await settle();
        expect(host.commands).to.have.length(2);
        expect(driver.activeLockCount).to.equal(2);
        release();
        await Promise.all([first, second]);
        expect(host.mounts).to.have.length(2);
      });

      it('serialises one mount point: the second connect waits, then reuses the mount', async () => {
        let release!: () => void;
        host.mountGate = new Promise((resolve) => { release = resolve; });
        const first = driver.connectVolume(ci(), GUEST_A);
        const second = driver.connectVolume(ci(), GUEST_B);
        await settle();
        expect(host.commands).to.have.length(1);
        expect(driver.activeLockCount).to.equal(1);
        release();
        await Promise.all([first, second]);
        expect(host.commands).to.have.length(1);
        expect((await driver.listAttachments()).get(mountPath)).to.have.length(2);
      });

      it('holds no lock when idle, after success and after failure', async () => {
        expect(driver.activeLockCount).to.equal(0);
        await driver.connectVolume(ci(), GUEST_A);
        await driver.disconnectVolume(ci(), GUEST_A);
        host.mountFailure = 'no';
        await driver.connectVolume(ci(), GUEST_A).catch(() => undefined);
        expect(driver.activeLockCount).to.equal(0);
      });
    });

    describe('restoreAttachments()', () => {
      it('rebuilds the store, so the mount stays until the last restored guest disconnects', async () => {
        await driver.connectVolume(ci(), GUEST_A);
        const restarted = build();
        await restarted.restoreAttachments([
          { connectionInfo: ci(), instance: GUEST_A },
          { connectionInfo: ci({ name: 'volume-2' }), instance: GUEST_B },
        ]);
        expect(await restarted.disconnectVolume(ci(), GUEST_A)).to.deep.equal({ unmounted: false, reason: 'in-use' });
        expect(await restarted.disconnectVolume(ci({ name: 'volume-2' }), GUEST_B)).to.deep.equal({ unmounted: true, reason: 'unmounted' });
      });
    });
  });
}
