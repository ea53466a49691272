/**
 * Every timed-out call is contained (issue 9): with 8 hung (SIGSTOPped) shares, each with an
 * attachment recorded, every public method of the driver is called on each; a local file read
 * keeps answering, no thread of this process is left in a FUSE request, and a 9th, healthy
 * share in use by a running guest is never touched. Then the same as an unprivileged agent
 * through `sudo -n libvirt-volume-helper`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { mountDirectoryName } from '../../lib/drivers/quobyte-export.js';
import { installHelper } from './support/sudo-helper.js';
import { AGENT_MODE, argvOf } from './support/agent-driver.js';
import { GuestProcess, childPids, processState, threadCount, threadsBlockedInFuse } from './support/guest-safety.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';
import { ci, eventually, finished, guest, makeDriver, mountLayers, sampleLocalReads, sleep, spawnTsx, writeBackingImage } from './support/driver-scene.js';

use(chaiAsPromised);

/** The kernel's FUSE attribute cache answers stat for about a second after a client stops. */
const ATTRIBUTE_CACHE_MS = 1_500;
const PROBE_TIMEOUT_MS = 300;
const DISK = { bus: 'virtio', dev: 'vdb', type: 'disk' } as const;
const NOBODY = 65_534;

/** A call's outcome: its error code, or what it resolved to in short. */
async function outcome(call: () => unknown): Promise<string> {
  try {
    const value = await call();
    if (value !== null && typeof value === 'object' && 'steps' in value && Array.isArray(value.steps)) return `plan:${value.steps.map((step: { kind: string }) => step.kind).join(',')}`;
    if (value !== null && typeof value === 'object' && 'state' in value) return `state:${String(value.state)}`;
    if (value !== null && typeof value === 'object' && 'reason' in value) return `reason:${String(value.reason)}`;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  }
}

describe('hung shares: every public method on 8 hung shares is contained (real mounts)', function () {
  this.timeout(180_000);
  let host: RealHost;
  let healthyGuest: GuestProcess | undefined;

  before(function () {
    requireRealHost(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
  });

  afterEach(async () => {
    await healthyGuest?.stop();
    healthyGuest = undefined;
    host.cleanUp();
  });

  it('a local read answers within 500 ms, no thread is left in FUSE, the healthy in-use share is never touched', async () => {
    const exports = Array.from({ length: 8 }, (_, i) => `registry/hung-${i}`);
    const healthyExport = 'registry/healthy';
    for (const name of [...exports, healthyExport]) writeBackingImage(host, name);
    const first = makeDriver(host, { probeTimeoutMs: PROBE_TIMEOUT_MS });
    for (const name of exports) await first.driver.connectVolume(ci(name), guest(1));
    const healthy = await first.driver.connectVolume(ci(healthyExport), guest(1));
    healthyGuest = await GuestProcess.start(healthy.devicePath, join(host.state, 'healthy-guest.log'));
    const healthyClient = host.clientPid(healthy.mountPath);
    const hungPaths = exports.map((name) => first.driver.getMountPath(ci(name)));
    for (const mountPath of hungPaths) host.signalClient(mountPath, 'SIGSTOP');
    await sleep(ATTRIBUTE_CACHE_MS);
    const threadsBefore = threadCount();

    const reads = sampleLocalReads(join(host.root, 'local-file'));
    // An agent restart: no fast-path memory; every look is a real one.
    const { driver, runner } = makeDriver(host, { probeTimeoutMs: PROBE_TIMEOUT_MS });
    // One share after the other: the point is what each call leaves behind, not a CPU burst on
    // a shared 2-core machine (which delays every callback, a local read's too).
    const perShare: string[][] = [];
    for (const [i, name] of exports.entries()) {
      const volume = ci(name);
      perShare.push([
        await outcome(() => driver.connectVolume(volume, guest(2))),
        await outcome(() => driver.planConnect(volume, guest(2))),
        await outcome(() => driver.planDisconnect(volume, guest(1))),
        await outcome(() => driver.disconnectVolume(volume, guest(2))),
        await outcome(() => driver.extendVolume(volume, guest(1), 2 << 20, { timeoutMs: 500 })),
        await outcome(() => driver.getConfig(volume, DISK)),
        await outcome(() => driver.inspectMount(hungPaths[i]!)),
      ]);
    }
    const everyone = [...exports, healthyExport].map((name) => ({ connectionInfo: ci(name), instance: guest(1) }));
    const global = [
      await outcome(() => driver.listAttachments()),
      await outcome(() => driver.reconcile()),
      await outcome(() => driver.restoreAttachments(everyone)),
    ];
    const reconcileReport = await driver.reconcile();
    // The last attachment leaves: a hung share nobody uses may be repaired (abort, lazy unmount).
    const lastDetach: string[] = [];
    for (const name of exports) lastDetach.push(await outcome(() => driver.disconnectVolume(ci(name), guest(1))));
    const slowestLocalReadMs = await reads.stop();
    const blockedRightAfter = threadsBlockedInFuse();

    // The last detach's plan: as root, an in-process FUSE abort; through the helper, its abort and its lazy umount (which removes the directory).
    const lastDetachPlan = AGENT_MODE ? 'plan:remove-attachment,run,run' : 'plan:remove-attachment,abort-fuse,run,remove-directory';
    expect(perShare).to.deep.equal(exports.map(() => ['ERR_VOLUME_UNRESPONSIVE', 'plan:refuse', lastDetachPlan, 'reason:not-attached', 'ERR_INVALID_VOLUME', 'ok', 'state:stale']));
    expect(global).to.deep.equal(['ok', 'ok', 'ok']);
    expect(reconcileReport).to.deep.include({ unmounted: [], kept: [], stacked: [], flattened: [], foreign: [] });
    expect(lastDetach).to.deep.equal(exports.map(() => 'reason:unmounted'));
    expect(slowestLocalReadMs, 'slowest local read (ms)').to.be.below(500);
    expect(blockedRightAfter, 'threads in a FUSE request').to.deep.equal([]);
    expect(threadCount()).to.be.at.most(threadsBefore + 4);
    await eventually(() => childPids().every((pid) => !['D', 'Z'].includes(processState(pid) ?? '')), 10_000, 'no stuck or zombie child');
    // The healthy share: never a command, same client, its guest never saw an error.
    expect(runner.argv.filter((argv) => argv.includes(healthy.mountPath) || argv.endsWith(healthyExport))).to.deep.equal([]);
    // The last detach: as root, an in-process abort and `umount -l`; through the helper, its abort and lazy umount.
    expect(runner.argv).to.have.members(exports.flatMap((name) => argvOf(host).hungRepair(name).slice(0, -1)));
    expect(host.clientPid(healthy.mountPath)).to.equal(healthyClient);
    expect(mountLayers(host.mountBase)).to.deep.equal(new Map([[healthy.mountPath, 1]]));
    await healthyGuest.waitForSteps(4);
    expect(healthyGuest.errors(), 'healthy guest I/O errors').to.deep.equal([]);
    console.log(`      figures: slowest local read ${slowestLocalReadMs.toFixed(1)} ms, ${blockedRightAfter.length} threads in FUSE, threads ${threadsBefore} -> ${threadCount()}, healthy guest ${healthyGuest.steps().length} steps / ${healthyGuest.errors().length} errors`);
  });

  describe('as an unprivileged agent through sudo -n libvirt-volume-helper', () => {
    const sudoers = `/etc/sudoers.d/lvd-hung-it-${process.pid}`;

    before(function () {
      for (const tool of ['sudo', 'visudo']) {
        if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
          if (process.env.CI === 'true') throw new Error(`${tool} is not installed`);
          this.skip();
        }
      }
    });

    afterEach(() => {
      rmSync(sudoers, { force: true });
    });

    it('leaves the hung share in use alone and repairs the unused hung one through abort + umount --lazy', async () => {
      chmodSync(host.root, 0o755);
      const helper = installHelper(host, sudoers);
      const agentHome = join(host.root, 'agent');
      mkdirSync(agentHome, { mode: 0o700 });
      chownSync(agentHome, NOBODY, NOBODY);
      const [inUse, unused] = ['registry/in-use', 'registry/unused'];
      for (const name of [inUse, unused]) writeBackingImage(host, name);
      const [inUsePath, unusedPath] = [inUse, unused].map((name) => join(host.mountBase, mountDirectoryName(name)));

      const job = { base: host.mountBase, store: join(agentHome, 'attachments.json'), helper: ['sudo', '-n', helper], inUse, unused, probeTimeoutMs: PROBE_TIMEOUT_MS, local: join(agentHome, 'local-file') };
      const agent = (phase: string): ReturnType<typeof finished> =>
        finished(spawnTsx('spec/integration/support/processes/hung-agent.ts', [phase, JSON.stringify(job)], { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, { uid: NOBODY, gid: NOBODY }));
      // The agent attaches a guest to one share; the other is mounted but nobody's.
      const attached = await agent('attach');
      expect(attached.code, attached.stderr).to.equal(0);
      expect(spawnSync(helper, ['mount', unused]).status).to.equal(0);
      const [inUseClient, unusedClient] = [inUsePath!, unusedPath!].map((mountPath) => host.signalClient(mountPath, 'SIGSTOP'));
      await sleep(ATTRIBUTE_CACHE_MS);

      const restarted = await agent('hung');
      expect(restarted.code, restarted.stderr).to.equal(0);
      const report = JSON.parse(restarted.stdout) as { outcomes: string[]; commands: string[]; slowestLocalReadMs: number; blocked: number; uid: number };
      expect(report.uid).to.equal(NOBODY);
      expect(report.outcomes).to.deep.equal(['ERR_VOLUME_UNRESPONSIVE', 'state:stale', 'ERR_INVALID_VOLUME', 'reason:not-attached', 'repaired', 'ok']);
      const prefix = `sudo -n ${helper}`;
      expect(report.commands).to.deep.equal([`${prefix} abort ${unused}`, `${prefix} umount ${unused} --lazy`, `${prefix} mount ${unused}`]);
      expect(report.slowestLocalReadMs, 'slowest local read (ms)').to.be.below(500);
      expect(report.blocked, 'threads in a FUSE request').to.equal(0);
      // The share in use: same stopped client, still mounted; the unused one: a new client.
      expect(host.clientPid(inUsePath!)).to.equal(inUseClient);
      expect(host.clientPid(unusedPath!)).to.not.equal(unusedClient);
      expect(mountLayers(host.mountBase)).to.deep.equal(new Map([[inUsePath!, 1], [unusedPath!, 1]]));
      console.log(`      figures (non-root): slowest local read ${report.slowestLocalReadMs.toFixed(1)} ms, ${report.blocked} threads in FUSE`);
    });
  });
});
