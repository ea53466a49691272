/**
 * The dry run is the plan the driver applies: each real scenario runs twice on real FUSE
 * mounts, once dry and once for real, and the dry run must have listed exactly the commands
 * that then ran (argv by argv, from the runner and from the stand-in client's own log) and the
 * FUSE aborts that then happened.
 */
import { spawnSync } from 'node:child_process';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import type { ConnectionInfo, InstanceRef } from '../../lib/drivers/connection-info.js';
import type { Plan } from '../../lib/plans/plan-step.js';
import { join } from 'node:path';
import { FileAttachmentStore } from '../../lib/attachments/file-attachment-store.js';
import { AGENT_MODE, argvOf, driverFor, type CallLog, type DriverUnderTest } from './support/agent-driver.js';
import { STATE_FILE_NAME } from './support/driver-scene.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';

use(chaiAsPromised);

const GUESTS: InstanceRef[] = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'].map((uuid) => ({ uuid }));
const EXPORT = 'registry/differential';
const VOLUME: ConnectionInfo = { driver_volume_type: 'quobyte', data: { export: EXPORT, name: 'volume-1' } };
/** The kernel's FUSE attribute cache answers stat for about a second after a client stops. */
const ATTRIBUTE_CACHE_MS = 1_500;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a plan says will reach the host: each command, the fallback only if the first fails. */
function plannedArgv(plan: Plan): { commands: string[]; fallbacks: string[]; aborts: number[] } {
  const commands: string[] = [];
  const fallbacks: string[] = [];
  const aborts: number[] = [];
  for (const step of plan.steps) {
    if (step.kind === 'run') {
      commands.push([step.command.file, ...step.command.args].join(' '));
      if (step.fallback !== undefined) fallbacks.push([step.fallback.file, ...step.fallback.args].join(' '));
    }
    if (step.kind === 'abort-fuse') aborts.push(step.minor);
  }
  return { commands, fallbacks, aborts };
}

describe('--dry-run against the real thing (plan = what runs)', function () {
  this.timeout(60_000);
  let host: RealHost;
  /** Every driver shares the base's store (a restarted agent); `probe.aborts`: FUSE aborts done in process. */
  function makeDriver(): { driver: DriverUnderTest; runner: CallLog; probe: CallLog } {
    const { driver, runner } = driverFor(host, { probeTimeoutMs: 700 });
    return { driver, runner, probe: runner };
  }

  /** Plans `operation` dry, applies it for real with a fresh driver, and compares. */
  async function differential(operation: 'connect' | 'disconnect', guest: InstanceRef): Promise<{ plan: Plan; ran: string[] }> {
    const dry = makeDriver();
    const plan = operation === 'connect' ? await dry.driver.planConnect(VOLUME, guest) : await dry.driver.planDisconnect(VOLUME, guest);
    expect(dry.runner.argv, 'a dry run runs nothing').to.deep.equal([]);
    expect(dry.probe.aborts, 'a dry run aborts nothing').to.deep.equal([]);
    const real = makeDriver();
    const logBefore = host.invocations().length;
    const refusal = plan.steps.find((step) => step.kind === 'refuse');
    const call = operation === 'connect' ? real.driver.connectVolume(VOLUME, guest) : real.driver.disconnectVolume(VOLUME, guest);
    if (refusal === undefined) await call;
    else await expect(call).to.be.rejectedWith(refusal.error.constructor as new () => Error).and.eventually.have.property('code', refusal.error.code);
    const planned = plannedArgv(plan);
    // A fallback runs only when the first command failed; on these hosts it does not.
    expect(real.runner.argv, 'commands run').to.deep.equal(planned.commands);
    expect(real.probe.aborts, 'FUSE connections aborted').to.deep.equal(planned.aborts);
    // The client's own log: one invocation per planned mount (as root or through the helper).
    const mounts = planned.commands.filter((argv) => argv === argvOf(host).mount(EXPORT)).map(() => `mount.quobyte --disable-xattrs ${EXPORT} ${mountPath()}`);
    expect(host.invocations().slice(logBefore).map((argv) => argv.join(' ').replace(/^\S*mount\.quobyte/, 'mount.quobyte')), 'stand-in log').to.deep.equal(mounts);
    return { plan, ran: real.runner.argv };
  }

  before(function () {
    requireRealHost(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
  });

  afterEach(() => { host.cleanUp(); });

  const mountPath = (): string => makeDriver().driver.getMountPath(VOLUME);

  it('absent: create, mount, record', async () => {
    const { plan, ran } = await differential('connect', GUESTS[0]!);
    expect(plan).to.include({ action: 'mounted' });
    expect(ran).to.have.length(1);
    expect(host.mounts()).to.have.length(1);
  });

  it('healthy: nothing runs', async () => {
    await makeDriver().driver.connectVolume(VOLUME, GUESTS[0]!);
    const { plan, ran } = await differential('connect', GUESTS[1]!);
    expect(plan).to.include({ action: 'reused' });
    expect(ran).to.deep.equal([]);
  });

  it('stale (client killed, ENOTCONN): unmount, mount', async () => {
    await makeDriver().driver.connectVolume(VOLUME, GUESTS[0]!);
    host.signalClient(mountPath(), 'SIGKILL');
    await sleep(ATTRIBUTE_CACHE_MS);
    const { plan, ran } = await differential('connect', GUESTS[1]!);
    expect(plan).to.include({ action: 'repaired', staleReason: 'not-connected' });
    expect(ran).to.deep.equal([argvOf(host).umount(EXPORT), argvOf(host).mount(EXPORT)]);
  });

  it('hung (client stopped) and in use: refused, nothing runs, nothing aborted', async () => {
    await makeDriver().driver.connectVolume(VOLUME, GUESTS[0]!);
    host.signalClient(mountPath(), 'SIGSTOP');
    await sleep(ATTRIBUTE_CACHE_MS);
    const { ran } = await differential('connect', GUESTS[1]!);
    expect(ran).to.deep.equal([]);
    expect(host.mounts()).to.have.length(1);
  });

  it('hung (client stopped) and unused: FUSE abort, lazy unmount, mount', async () => {
    await makeDriver().driver.connectVolume(VOLUME, GUESTS[0]!);
    await new FileAttachmentStore(join(host.mountBase, STATE_FILE_NAME)).replaceAll(new Map());
    host.signalClient(mountPath(), 'SIGSTOP');
    await sleep(ATTRIBUTE_CACHE_MS);
    const { plan, ran } = await differential('connect', GUESTS[1]!);
    // As root the abort is done in process; through the helper it is a command.
    expect(plan.steps.map((step) => step.kind).slice(0, 2)).to.deep.equal(AGENT_MODE ? ['run', 'run'] : ['abort-fuse', 'run']);
    expect(ran).to.deep.equal(argvOf(host).hungRepair(EXPORT));
  });

  it('foreign (tmpfs at the mount path): refused, nothing runs', async () => {
    const path = mountPath();
    spawnSync('mkdir', ['-p', path]);
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', path]).status).to.equal(0);
    const { ran } = await differential('connect', GUESTS[0]!);
    expect(ran).to.deep.equal([]);
    expect(host.mounts().map((entry) => entry.fsType)).to.deep.equal(['tmpfs']);
  });

  it('disconnect of the first, middle and last of three attachments: only the last unmounts', async () => {
    for (const guest of GUESTS) await makeDriver().driver.connectVolume(VOLUME, guest);
    expect((await differential('disconnect', GUESTS[0]!)).plan).to.include({ reason: 'in-use' });
    expect((await differential('disconnect', GUESTS[1]!)).plan).to.include({ reason: 'in-use' });
    const last = await differential('disconnect', GUESTS[2]!);
    expect(last.plan).to.include({ reason: 'unmounted' });
    expect(last.ran).to.deep.equal([argvOf(host).umount(EXPORT)]);
    expect(host.mounts()).to.deep.equal([]);
  });

  it('disconnect of a stale mount and of a never-recorded attachment', async () => {
    await makeDriver().driver.connectVolume(VOLUME, GUESTS[0]!);
    await makeDriver().driver.connectVolume(VOLUME, GUESTS[1]!);
    expect((await differential('disconnect', GUESTS[2]!)).plan).to.include({ reason: 'not-attached' });
    await differential('disconnect', GUESTS[1]!);
    host.signalClient(mountPath(), 'SIGKILL');
    await sleep(ATTRIBUTE_CACHE_MS);
    const last = await differential('disconnect', GUESTS[0]!);
    expect(last.ran).to.deep.equal([argvOf(host).umount(EXPORT)]);
    expect(host.mounts()).to.deep.equal([]);
  });
});
