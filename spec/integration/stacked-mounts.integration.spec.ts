/**
 * Stacked mounts on real FUSE mounts (issue 9: "detected and never created"): a second stand-in
 * client is mounted over a live one at the same path (the `stack` switch: a client that does not
 * check), with a running guest on the lower layer. The driver takes the top off and judges the
 * layer below afresh: it never mounts on a stack, never leaves two layers where one can go
 * without harm, and never detaches a layer a guest may use on a timeout alone. In the agent pass
 * the drivers and the killed agent run as `nobody` through sudo and the helper; the stack itself
 * is made here, by root (it stands for a client that misbehaved, not for anything an agent does).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { FileAttachmentStore } from '../../lib/attachments/file-attachment-store.js';
import { parseMountInfo } from '../../lib/filesystem/parse-mount-info.js';
import { FIXTURE_BIN, isAlive, pgrep, type RealHost } from './support/real-host.js';
import { GuestProcess, processState } from './support/guest-safety.js';
import { AGENT_MODE, argvOf, ownAgentProcess } from './support/agent-driver.js';
import { STATE_FILE_NAME, ci, eventually, guest, killGroup, makeDriver, sleep, spawnTsx, useRealHost, writeBackingImage } from './support/driver-scene.js';

use(chaiAsPromised);

const EXPORT = 'registry/stacked';
/** Stacked repairs each killed at a random moment (LVD_STACK_KILLS overrides). */
const KILLS = Number(process.env.LVD_STACK_KILLS ?? 6);
/** The kill comes 0 to this many ms after `GO`: through sudo and the helper each act takes longer, so the window does too (with 700 ms every kill fell before the first removal). */
const KILL_WINDOW_MS = AGENT_MODE ? 2_500 : 700;

/** The mount-table entries at one path, bottom first. */
function layersAt(mountPath: string): Array<{ device: string | undefined }> {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((entry) => entry.mountPoint === mountPath).map((entry) => ({ device: entry.device }));
}

/** Mounts a second stand-in client on top of the one at `mountPath`; resolves to its daemon's pid. */
function stackClient(host: RealHost, mountPath: string): number {
  const result = spawnSync(join(FIXTURE_BIN, 'mount.quobyte'), ['--disable-xattrs', EXPORT, mountPath], { env: { ...host.env, QUOBYTE_STANDIN_STACK: '1' }, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`stacking failed (${result.status ?? result.signal}): ${result.stderr}`);
  return host.clientPid(mountPath);
}

describe('stacked mounts (real mounts)', function () {
  this.timeout(120_000);
  const currentHost = useRealHost((host) => { writeBackingImage(host, EXPORT); });
  let host: RealHost;
  const guests: GuestProcess[] = [];
  const daemons: number[] = [];

  beforeEach(() => {
    host = currentHost();
  });
  afterEach(async () => {
    for (const pid of daemons.splice(0)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    await Promise.all(guests.splice(0).map((running) => running.stop()));
  });

  /** A share connected for guest 1 with a running guest on it, and a second client stacked on top. */
  async function stackedScene(): Promise<{ mountPath: string; lower: { pid: number; device: string | undefined }; top: number; onLower: GuestProcess; driver: ReturnType<typeof makeDriver> }> {
    const scene = makeDriver(host);
    const { mountPath } = await scene.driver.connectVolume(ci(EXPORT), guest(1));
    const lower = { pid: host.clientPid(mountPath), device: layersAt(mountPath)[0]?.device };
    const onLower = await GuestProcess.start(join(mountPath, 'volume-1'), join(host.state, 'lower.guest.log'));
    guests.push(onLower);
    daemons.push(lower.pid);
    const top = stackClient(host, mountPath);
    daemons.push(top);
    expect(layersAt(mountPath)).to.have.length(2);
    scene.runner.commands.length = 0;
    return { mountPath, lower, top, onLower, driver: scene };
  }

  it('connect over a dead top: the top goes, the live layer below (a guest on it) is reused, nothing is mounted', async () => {
    const { mountPath, lower, top, onLower, driver } = await stackedScene();
    process.kill(top, 'SIGKILL');
    const mountsBefore = host.invocations().length;
    const result = await driver.driver.connectVolume(ci(EXPORT), guest(2));
    expect(result).to.deep.include({ action: 'repaired', staleReason: 'not-connected' });
    expect(driver.runner.argv).to.deep.equal([argvOf(host).umount(EXPORT)]);
    expect(layersAt(mountPath)).to.deep.equal([{ device: lower.device }]);
    expect(host.invocations()).to.have.length(mountsBefore);
    await onLower.waitForSteps(10);
    expect(onLower.errors()).to.deep.equal([]);
    expect(isAlive(lower.pid)).to.equal(true);
    expect((await new FileAttachmentStore(join(host.mountBase, STATE_FILE_NAME)).list(mountPath)).length).to.equal(2);
  });

  it('connect under a healthy top a guest has open: the top stays and is used; no lazy unmount; reconcile flattens once it is free', async () => {
    const { mountPath, onLower, driver } = await stackedScene();
    const onTop = await GuestProcess.start(join(mountPath, 'volume-1'), join(host.state, 'top.guest.log'));
    guests.push(onTop);
    const result = await driver.driver.connectVolume(ci(EXPORT), guest(2));
    expect(result.action).to.equal('reused');
    expect(driver.runner.argv).to.deep.equal([argvOf(host).umount(EXPORT)]);
    expect(layersAt(mountPath)).to.have.length(2);
    const busy = await driver.driver.reconcile();
    expect(busy).to.deep.include({ stacked: [mountPath], flattened: [], unmounted: [] });
    expect(layersAt(mountPath)).to.have.length(2);
    await onTop.stop();
    const flattened = await driver.driver.reconcile();
    expect(flattened).to.deep.include({ stacked: [mountPath], flattened: [mountPath], unmounted: [] });
    expect(layersAt(mountPath)).to.have.length(1);
    expect(driver.runner.argv.filter((argv) => argv === argvOf(host).lazyUmount(EXPORT))).to.deep.equal([]);
    await onLower.waitForSteps(10);
    expect([...onLower.errors(), ...onTop.errors()]).to.deep.equal([]);
  });

  it('a hung layer below, in use, is left alone after the dead top goes (slow is not dead)', async () => {
    const { mountPath, lower, top, onLower, driver } = await stackedScene();
    process.kill(lower.pid, 'SIGSTOP');
    process.kill(top, 'SIGKILL');
    await sleep(1_200); // past the lower layer's 1 s attribute cache
    await expect(driver.driver.connectVolume(ci(EXPORT), guest(2))).to.be.rejected.and.eventually.have.property('code', 'ERR_VOLUME_UNRESPONSIVE');
    expect(driver.runner.argv).to.deep.equal([argvOf(host).umount(EXPORT)]);
    expect(layersAt(mountPath)).to.deep.equal([{ device: lower.device }]);
    expect(processState(lower.pid)).to.equal('T');
    process.kill(lower.pid, 'SIGCONT');
    await onLower.waitForSteps(10);
    expect(onLower.errors()).to.deep.equal([]);
  });

  it(`kill -9 at a random moment of a stacked repair (${KILLS} times): never a mount on a stack, and reconcile and a connect settle it`, async () => {
    const outcomes: string[] = [];
    const leftAfterKill: number[] = [];
    for (let kill = 0; kill < KILLS; kill += 1) {
      const { mountPath, lower, top, onLower, driver } = await stackedScene();
      await onLower.stop();
      process.kill(top, 'SIGKILL');
      process.kill(lower.pid, 'SIGKILL');
      const mountsBefore = host.invocations().length;
      const own = ownAgentProcess(host);
      const agent = spawnTsx('spec/integration/support/processes/connect-once.ts', [JSON.stringify({ base: host.mountBase, export: EXPORT, guest: 2, ...own.driver })], host.env, { detached: true, ...own.spawn });
      host.onCleanUp(() => { killGroup(agent); });
      let out = '';
      agent.stdout?.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
      agent.stderr?.resume();
      await eventually(() => out.includes('READY'), 30_000, 'agent READY');
      agent.stdin?.write('go\n');
      await eventually(() => out.includes('GO'), 10_000, 'agent GO');
      await sleep(Math.random() * KILL_WINDOW_MS);
      process.kill(-agent.pid!, 'SIGKILL');
      await new Promise((resolve) => agent.once('close', resolve));
      if (AGENT_MODE) await eventually(() => pgrep(`${host.root}/etc/helper.json`).length === 0, 10_000, `after kill ${kill}: no helper left`);
      outcomes.push(out.includes('DONE') ? 'done' : 'killed');
      // Killed before its first removal, the stack it found is still there; but it never mounted
      // while a layer was left.
      const left = layersAt(mountPath).length;
      leftAfterKill.push(left);
      expect(left, `after kill ${kill}`).to.be.at.most(2);
      // A mount started means every layer was gone first: at most its own is there (none when the
      // kill took the client down with the agent's process group before it mounted).
      if (host.invocations().length > mountsBefore) expect(left, `after kill ${kill}: mounted on a stack`).to.be.at.most(1);
      // A new process (here: a new driver) reconciles (a stack in use goes down to one layer), then connects.
      const next = makeDriver(host).driver;
      const report = await next.reconcile();
      expect(report.flattened, `after kill ${kill}`).to.deep.equal(left > 1 ? [mountPath] : []);
      expect(layersAt(mountPath).length, `after kill ${kill}`).to.be.at.most(1);
      await next.connectVolume(ci(EXPORT), guest(3));
      expect(layersAt(mountPath), `after kill ${kill}`).to.have.length(1);
      await next.disconnectVolume(ci(EXPORT), guest(3));
      await next.disconnectVolume(ci(EXPORT), guest(2));
      await driver.driver.disconnectVolume(ci(EXPORT), guest(1));
      expect(layersAt(mountPath), `after kill ${kill}`).to.deep.equal([]);
      expect(await new FileAttachmentStore(join(host.mountBase, STATE_FILE_NAME)).entries()).to.deep.equal(new Map());
    }
    console.log(`      figures: ${KILLS} kills (${outcomes.filter((o) => o === 'killed').length} before the connect ended), layers left after each kill ${leftAfterKill.join(' ')}, never a mount on a stack, all settled`);
  });
});
