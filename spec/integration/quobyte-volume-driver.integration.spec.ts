/**
 * The driver against the kernel: real FUSE mounts by the stand-in Quobyte client, through the
 * real ExecaCommandRunner and NodeFileSystemProbe.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fsp, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { CommandTimeoutError, InvalidVolumeError, VolumeMountError } from '../../lib/errors.js';
import { argvOf, driverFor, type CallLog, type DriverChoice, type DriverUnderTest } from './support/agent-driver.js';
import { RealHost, ensureFuseControl, isAlive, pgrep, requireRealHost } from './support/real-host.js';

use(chaiAsPromised);

const GUEST_A = { uuid: '11111111-1111-4111-8111-111111111111' };
const GUEST_B = { uuid: '22222222-2222-4222-8222-222222222222' };
/** The kernel's FUSE attribute cache answers stat for about a second after a client stops. */
const ATTRIBUTE_CACHE_MS = 1_500;

function ci(exportName: string, name = 'volume-1'): ConnectionInfo {
  return { driver_volume_type: 'quobyte', data: { export: exportName, name } };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('QuobyteVolumeDriver on real FUSE mounts', function () {
  this.timeout(60_000);
  let host: RealHost;
  let runner: CallLog;
  let driver: DriverUnderTest;
  const holders: ChildProcess[] = [];

  /** A driver of its own (an in-memory store: a new one is an agent that remembers nothing). */
  function makeDriver(options: DriverChoice = {}, env: Record<string, string> = {}): DriverUnderTest {
    let made: DriverUnderTest;
    ({ driver: made, runner } = driverFor(host, { store: 'memory', ...options }, env));
    return made;
  }

  before(function () {
    requireRealHost(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    driver = makeDriver();
  });

  afterEach(() => {
    for (const holder of holders.splice(0)) holder.kill('SIGKILL');
    host.cleanUp();
  });

  it('mounts on a cold connect with Nova\'s argv, as type fuse.quobyte', async () => {
    await driver.connectVolume(ci('quobyte://registry:7861/cold'), GUEST_A);
    const mountPath = driver.getMountPath(ci('registry:7861/cold'));
    expect(runner.argv).to.deep.equal([argvOf(host).mount('registry:7861/cold')]);
    expect(host.invocations().map((argv) => argv.slice(1))).to.deep.equal([['--disable-xattrs', 'registry:7861/cold', mountPath]]);
    expect(host.mounts()).to.have.length(1);
    expect(host.mounts()[0]).to.include({ mountPoint: mountPath, fsType: 'fuse.quobyte', source: 'quobyte@registry:7861/cold' });
  });

  it('spawns no process on a warm connect', async () => {
    await driver.connectVolume(ci('registry/warm'), GUEST_A);
    const before = runner.commands.length;
    for (let index = 0; index < 20; index += 1) await driver.connectVolume(ci('registry/warm', `volume-${index}`), GUEST_B);
    expect(runner.commands.length).to.equal(before);
    expect(host.invocations()).to.have.length(1);
  });

  it('shares one mount between two guests and unmounts it, removing the directory, when the last one leaves', async () => {
    const mountPath = driver.getMountPath(ci('registry/shared'));
    await driver.connectVolume(ci('registry/shared', 'volume-a'), GUEST_A);
    await driver.connectVolume(ci('registry/shared', 'volume-b'), GUEST_B);
    expect(host.mounts()).to.have.length(1);
    expect(await driver.disconnectVolume(ci('registry/shared', 'volume-a'), GUEST_A)).to.deep.equal({ unmounted: false, reason: 'in-use' });
    expect(host.mounts()).to.have.length(1);
    expect(await driver.disconnectVolume(ci('registry/shared', 'volume-b'), GUEST_B)).to.deep.equal({ unmounted: true, reason: 'unmounted' });
    expect(host.mounts()).to.deep.equal([]);
    expect(existsSync(mountPath)).to.equal(false);
    expect(runner.argv.at(-1)).to.equal(argvOf(host).umount('registry/shared'));
  });

  it('repairs a crashed client (kill -9, ENOTCONN) on the next connect, with the data intact', async () => {
    const volume = ci('registry/crash');
    await driver.connectVolume(volume, GUEST_A);
    const devicePath = driver.getDevicePath(volume);
    writeFileSync(devicePath, 'guest data');
    const pid = host.signalClient(driver.getMountPath(volume), 'SIGKILL');
    await sleep(100);
    expect(isAlive(pid)).to.equal(false);
    await expect(fsp.stat(driver.getMountPath(volume))).to.be.rejected.and.eventually.have.property('code', 'ENOTCONN');

    await driver.connectVolume(volume, GUEST_B);
    expect(runner.argv.slice(1)).to.deep.equal([argvOf(host).umount('registry/crash'), runner.argv[0]]);
    expect(readFileSync(devicePath, 'utf8')).to.equal('guest data');
    expect(host.mounts()).to.have.length(1);
  });

  it('detects a hung client (SIGSTOP) within probeTimeoutMs and replaces the mount lazily, in bounded time', async () => {
    const volume = ci('registry/hung');
    const mountPath = driver.getMountPath(volume);
    await driver.connectVolume(volume, GUEST_A);
    writeFileSync(driver.getDevicePath(volume), 'still here');
    host.signalClient(mountPath, 'SIGSTOP');
    await sleep(ATTRIBUTE_CACHE_MS);
    // A fresh driver (an agent restart) has no fast-path memory: it must look for real.
    driver = makeDriver({ probeTimeoutMs: 500 });
    const health = await driver.inspectMount(mountPath);
    expect(health).to.include({ state: 'stale', reason: 'unresponsive' });

    const started = performance.now();
    await driver.connectVolume(volume, GUEST_B);
    const elapsed = performance.now() - started;
    expect(elapsed).to.be.below(10_000);
    expect(runner.argv).to.deep.equal(argvOf(host).hungRepair('registry/hung'));
    expect(host.mounts()).to.have.length(1);
    expect((await driver.inspectMount(mountPath)).state).to.equal('healthy');
    expect(readFileSync(driver.getDevicePath(volume), 'utf8')).to.equal('still here');
  });

  it('keeps the process\'s file I/O flowing through eight hung mounts in a row', async () => {
    const volumes = Array.from({ length: 8 }, (_, index) => ci(`registry/hung-${index}`));
    for (const volume of volumes) await driver.connectVolume(volume, GUEST_A);
    for (const volume of volumes) host.signalClient(driver.getMountPath(volume), 'SIGSTOP');
    await sleep(ATTRIBUTE_CACHE_MS);
    driver = makeDriver({ probeTimeoutMs: 300 });

    // libuv has four I/O threads: if hung stats kept them, this read would stall.
    let worstMs = 0;
    for (const volume of volumes) {
      await driver.connectVolume(volume, GUEST_B);
      const started = performance.now();
      await Promise.race([
        fsp.readFile('/proc/self/status'),
        sleep(5_000).then(() => { throw new Error('file I/O stalled behind hung mounts'); }),
      ]);
      worstMs = Math.max(worstMs, performance.now() - started);
    }
    expect(worstMs).to.be.below(1_000);
    expect(host.mounts()).to.have.length(8);
    for (const volume of volumes) expect((await driver.inspectMount(driver.getMountPath(volume))).state).to.equal('healthy');
  });

  it('rejects with VolumeMountError carrying the client\'s stderr when the mount command fails', async () => {
    driver = makeDriver({}, { QUOBYTE_STANDIN_FAIL: 'registry unreachable: connection refused' });
    const volume = ci('registry/fails');
    const error = await driver.connectVolume(volume, GUEST_A).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(VolumeMountError);
    expect((error as Error).message).to.contain('registry unreachable: connection refused');
    expect(host.mounts()).to.deep.equal([]);
    expect(existsSync(driver.getMountPath(volume))).to.equal(false);
    expect((await driver.listAttachments()).size).to.equal(0);
  });

  it('kills a hanging mount command at commandTimeoutMs and leaves no process behind', async () => {
    driver = makeDriver({ commandTimeoutMs: 1_000 }, { QUOBYTE_STANDIN_DELAY_MS: '60000' });
    const volume = ci('registry/slow');
    const started = performance.now();
    const error = await driver.connectVolume(volume, GUEST_A).then(() => undefined, (e: unknown) => e);
    expect(performance.now() - started).to.be.below(8_000);
    expect(error).to.be.instanceOf(VolumeMountError);
    expect((error as VolumeMountError).cause).to.be.instanceOf(CommandTimeoutError);
    await sleep(200);
    expect(pgrep(`mount.quobyte.*${driver.getMountPath(volume)}`)).to.deep.equal([]);
    expect(host.mounts()).to.deep.equal([]);
  });

  it('reports busy, throws nothing and keeps its books straight when an unmount is refused', async () => {
    const volume = ci('registry/busy');
    const mountPath = driver.getMountPath(volume);
    await driver.connectVolume(volume, GUEST_A);
    writeFileSync(driver.getDevicePath(volume), 'open me');
    // Another process (a guest's qemu, say) holds the image open.
    const holder = spawn('sh', ['-c', 'exec 3<"$1"; echo ready; exec sleep 60', 'holder', driver.getDevicePath(volume)], { stdio: ['ignore', 'pipe', 'ignore'] });
    holders.push(holder);
    await new Promise((resolve) => holder.stdout.once('data', resolve));

    expect(await driver.disconnectVolume(volume, GUEST_A)).to.deep.equal({ unmounted: false, reason: 'busy' });
    expect(host.mounts()).to.have.length(1);
    expect((await driver.listAttachments()).size).to.equal(0);

    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    // The kernel lets go of the file a moment after the holder's exit is reported; a later
    // disconnect is what finishes the job.
    let result = await driver.disconnectVolume(volume, GUEST_A);
    for (let attempt = 0; attempt < 20 && result.reason === 'busy'; attempt += 1) {
      await sleep(100);
      result = await driver.disconnectVolume(volume, GUEST_A);
    }
    expect(result).to.deep.equal({ unmounted: true, reason: 'unmounted' });
    expect(host.mounts()).to.deep.equal([]);
    expect(existsSync(mountPath)).to.equal(false);
  });

  it('never mounts over, unmounts or removes a foreign file system (tmpfs) at the mount path', async () => {
    const volume = ci('registry/foreign');
    const mountPath = driver.getMountPath(volume);
    await fsp.mkdir(mountPath, { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', mountPath]).status).to.equal(0);
    writeFileSync(`${mountPath}/keep`, 'operator data');

    await expect(driver.connectVolume(volume, GUEST_A)).to.be.rejectedWith(InvalidVolumeError, /tmpfs/);
    expect(await driver.disconnectVolume(volume, GUEST_A)).to.deep.equal({ unmounted: false, reason: 'not-mounted' });
    expect(runner.commands).to.deep.equal([]);
    expect(host.mounts().map((entry) => entry.fsType)).to.deep.equal(['tmpfs']);
    expect(readFileSync(`${mountPath}/keep`, 'utf8')).to.equal('operator data');
  });
});
