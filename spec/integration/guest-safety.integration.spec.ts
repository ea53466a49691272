/**
 * Slow is not dead (issue 9): a share whose `stat` answers just after `probeTimeoutMs` while a
 * guest does I/O on it is never aborted, unmounted or remounted, whatever other guests and a
 * restarted agent do on it. The guest is a real process doing a write, fsync and read every
 * 50 ms on the image; the share is a real FUSE mount of the stand-in client.
 */
import { existsSync } from 'node:fs';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { VolumeUnresponsiveError } from '../../lib/errors.js';
import { GuestProcess, processState, setSlowStat, threadsBlockedInFuse } from './support/guest-safety.js';
import { RealHost, ensureFuseControl, isAlive, requireRealHost } from './support/real-host.js';
import { AGENT_MODE, argvOf, type CallLog, type DriverUnderTest } from './support/agent-driver.js';
import { ci, guest, makeDriver, mountLayers, writeBackingImage } from './support/driver-scene.js';

use(chaiAsPromised);

const PROBE_TIMEOUT_MS = 400;
const SLOW_MS = Math.round(PROBE_TIMEOUT_MS * 1.1);
const EXPORT = 'registry:7861/slow';

describe('guest safety: a slow share in use is never taken from its guest (real mounts)', function () {
  this.timeout(120_000);
  let host: RealHost;
  const runners: CallLog[] = [];
  let running: GuestProcess | undefined;

  /** A driver as an agent (re)started with the default host-wide file store; every stat reaches the client. */
  function agent(): DriverUnderTest {
    const { driver, runner } = makeDriver(host, { probeTimeoutMs: PROBE_TIMEOUT_MS }, { QUOBYTE_STANDIN_ATTR_TIMEOUT: '0' });
    runners.push(runner);
    return driver;
  }

  before(function () {
    requireRealHost(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    runners.length = 0;
    for (const name of ['volume-1', 'volume-2', 'volume-3']) writeBackingImage(host, EXPORT, name);
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    host.cleanUp();
  });

  /** Connects guest 1 and starts its I/O; resolves to the scene. */
  async function guestOnShare(): Promise<{ driver: DriverUnderTest; mountPath: string; clientPid: number }> {
    const driver = agent();
    const { devicePath, mountPath } = await driver.connectVolume(ci(EXPORT, 'volume-1'), guest(1));
    running = await GuestProcess.start(devicePath, `${host.state}/guest-1.log`);
    await running.waitForSteps(6);
    return { driver, mountPath, clientPid: host.clientPid(mountPath) };
  }

  /** What must hold at the end: the guest never saw an error, the share is the one mounted at first. */
  async function expectGuestUnharmed(mountPath: string, clientPid: number): Promise<void> {
    setSlowStat(host, mountPath, 0);
    await running!.waitForSteps(6);
    expect(running!.errors(), 'guest I/O errors').to.deep.equal([]);
    expect(isAlive(clientPid) && processState(clientPid) !== 'T', 'client alive and running').to.be.true;
    expect(host.clientPid(mountPath)).to.equal(clientPid);
    expect(mountLayers(host.mountBase)).to.deep.equal(new Map([[mountPath, 1]]));
    // An unprivileged agent cannot see the guest's open files (another user's /proc/<pid>/fd):
    // when the last record goes it asks the helper to abort, and the helper, root, refuses.
    const refusedAborts = runners.flatMap((runner) => runner.argv).filter((argv) => AGENT_MODE && argv.endsWith(` abort ${EXPORT}`));
    const commands = runners.flatMap((runner) => runner.argv).filter((argv) => !refusedAborts.includes(argv));
    expect(commands, 'commands run').to.deep.equal([argvOf(host).mount(EXPORT)]);
    expect(host.invocations()).to.have.length(1);
    expect(threadsBlockedInFuse()).to.deep.equal([]);
  }

  it(`slow once (${SLOW_MS} ms > ${PROBE_TIMEOUT_MS} ms): the connect that saw it is refused, the next one reuses the share; 0 guest errors`, async () => {
    const { mountPath, clientPid } = await guestOnShare();
    setSlowStat(host, mountPath, SLOW_MS);
    // An agent restart: no fast-path memory, it must look for real.
    const restarted = agent();
    const refused = await restarted.connectVolume(ci(EXPORT, 'volume-2'), guest(2)).then(() => undefined, (error: unknown) => error);
    setSlowStat(host, mountPath, 0);
    expect(refused).to.be.instanceOf(VolumeUnresponsiveError);
    expect(refused).to.include({ code: 'ERR_VOLUME_UNRESPONSIVE' });
    // The guest's open image is visible to a root agent only (another user's /proc/<pid>/fd).
    expect((refused as Error).message).to.match(AGENT_MODE ? /\(1 attachment\(s\) recorded\)/ : /1 attachment\(s\) recorded, open by 1 process/);
    expect(await restarted.connectVolume(ci(EXPORT, 'volume-2'), guest(2))).to.include({ action: 'reused' });
    expect(await restarted.disconnectVolume(ci(EXPORT, 'volume-2'), guest(2))).to.deep.equal({ unmounted: false, reason: 'in-use' });
    await expectGuestUnharmed(mountPath, clientPid);
  });

  it('slow persistently: connects refused, disconnects, restarts, inspections and reconciles leave it alone; 0 guest errors', async () => {
    const { driver, mountPath, clientPid } = await guestOnShare();
    // Guest 2 is attached while the share is fast.
    await driver.connectVolume(ci(EXPORT, 'volume-2'), guest(2));
    setSlowStat(host, mountPath, SLOW_MS);
    const outcomes: string[] = [];
    for (let restart = 0; restart < 3; restart += 1) {
      const restarted = agent();
      expect((await restarted.inspectMount(mountPath)).state).to.equal('stale');
      const plan = await restarted.planConnect(ci(EXPORT, 'volume-3'), guest(3));
      expect(plan.steps.map((step) => step.kind)).to.deep.equal(['refuse']);
      // The restarted agent, and the first one (whose fast path remembers the share healthy).
      for (const attempt of [() => restarted.connectVolume(ci(EXPORT, 'volume-3'), guest(3)), () => driver.connectVolume(ci(EXPORT, 'volume-3'), guest(3 + restart))]) {
        outcomes.push(await attempt().then(({ action }) => action, (error: unknown) => (error as { code: string }).code));
      }
      expect(await restarted.disconnectVolume(ci(EXPORT, 'volume-3'), guest(3))).to.deep.equal({ unmounted: false, reason: 'not-attached' });
      const report = await restarted.reconcile();
      expect(report.unmounted).to.deep.equal([]);
    }
    expect(outcomes).to.deep.equal(Array.from({ length: 6 }, () => 'ERR_VOLUME_UNRESPONSIVE'));
    // Another guest leaves: its record goes, the share stays.
    expect(await agent().disconnectVolume(ci(EXPORT, 'volume-2'), guest(2))).to.deep.equal({ unmounted: false, reason: 'in-use' });
    // Even the last record going (the guest still has its image open) leaves a slow share mounted.
    const last = agent();
    expect(await last.disconnectVolume(ci(EXPORT, 'volume-1'), guest(1))).to.deep.equal({ unmounted: false, reason: 'busy' });
    expect(await last.reconcile()).to.deep.include({ unmounted: [], kept: [mountPath] });
    expect(existsSync(mountPath)).to.be.true;
    await expectGuestUnharmed(mountPath, clientPid);
  });
});
