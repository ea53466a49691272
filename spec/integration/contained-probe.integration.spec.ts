/**
 * NodeFileSystemProbe against hung (SIGSTOPped) and slow stand-in clients: every call that
 * timed out is contained in a probe child that is killed, so no thread of this process is
 * ever left waiting on a FUSE request.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { NodeFileSystemProbe } from '../../lib/filesystem/node-file-system-probe.js';
import { GuestProcess, allThreadsStopped, childPids, mountStandIn, processState, setSlowStat, startShareWithGuest, threadCount, threadsBlockedInFuse } from './support/guest-safety.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';
import { describeRootAgentOnly } from './support/agent-driver.js';

use(chaiAsPromised);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean, ms = 15_000): Promise<void> {
  const until = performance.now() + ms;
  while (!check()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await sleep(25);
  }
}

/** What a call came to: its value's kind, or its error code. */
async function outcome(call: Promise<unknown>): Promise<unknown> {
  return call.then((value) => (typeof value === 'boolean' ? value : 'fulfilled'), (error: unknown) => (error as NodeJS.ErrnoException).code);
}

/** Reads a small local file every 50 ms until stopped; resolves to the slowest read in ms. */
function sampleLocalReads(file: string): { stop: () => Promise<number> } {
  const state = { running: true };
  let slowest = 0;
  const loop = (async () => {
    while (state.running) {
      const started = performance.now();
      await readFile(file);
      slowest = Math.max(slowest, performance.now() - started);
      await sleep(50);
    }
  })();
  return { stop: async () => { state.running = false; await loop; return slowest; } };
}

describeRootAgentOnly("probes in the test process itself (its threads are the measurement); its own test 'works the same for an unprivileged agent' runs the probe's child as nobody in the root pass", 'NodeFileSystemProbe on hung and slow FUSE mounts', function () {
  this.timeout(180_000);
  let host: RealHost;
  let probe: NodeFileSystemProbe;
  const guests: GuestProcess[] = [];

  before(function () {
    requireRealHost(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    probe = new NodeFileSystemProbe();
  });

  afterEach(async () => {
    for (const guest of guests.splice(0)) await guest.stop();
    probe.close();
    host.cleanUp();
  });

  it('with 8 hung shares probed repeatedly, a local read answers within 500 ms, a healthy share answers, and no thread is left blocked', async () => {
    const hung = Array.from({ length: 8 }, (_, i) => mountStandIn(host, `registry/hung-${i}`, `hung-${i}`));
    const healthy = mountStandIn(host, 'registry/healthy', 'healthy');
    for (const mountPath of [...hung, healthy]) writeFileSync(join(mountPath, 'volume-1'), Buffer.alloc(65_536));
    const local = join(host.root, 'local-file');
    writeFileSync(local, 'local');
    await readFile(local);
    expect(await probe.stat(healthy, { timeoutMs: 5_000 })).to.include({ isDirectory: true });
    const threadsBefore = threadCount();
    for (const mountPath of hung) host.signalClient(mountPath, 'SIGSTOP');

    const reads = sampleLocalReads(local);
    const healthyAnswers: unknown[] = [];
    const healthyProbe = { running: true };
    const healthyLoop = (async () => {
      while (healthyProbe.running) {
        healthyAnswers.push(await outcome(probe.stat(healthy, { timeoutMs: 10_000 })));
        await sleep(100);
      }
    })();
    const timeoutMs = 500;
    const rounds: unknown[][] = [];
    for (let round = 0; round < 2; round++) {
      const calls = hung.flatMap((mountPath): Promise<unknown>[] => {
        const image = join(mountPath, 'volume-1');
        return round === 0
          ? [probe.stat(mountPath, { timeoutMs }), probe.stat(mountPath, { timeoutMs }), probe.readBytes(image, 0, 32, { timeoutMs })]
          : [probe.lstat(image, { timeoutMs }), probe.pathExists(image, { timeoutMs }), probe.realPath(mountPath, { timeoutMs }), probe.isWritable(mountPath, { timeoutMs })];
      });
      rounds.push(await Promise.all(calls.map(outcome)));
    }
    healthyProbe.running = false;
    await healthyLoop;
    const slowestLocalRead = await reads.stop();

    expect(rounds[0]).to.deep.equal(Array.from({ length: 24 }, () => 'ETIMEDOUT'));
    expect(rounds[1]).to.deep.equal(hung.flatMap(() => ['ETIMEDOUT', 'ETIMEDOUT', 'ETIMEDOUT', false]));
    expect(slowestLocalRead, 'slowest local read (ms)').to.be.below(500);
    expect(healthyAnswers.length).to.be.above(0);
    expect(healthyAnswers.every((answer) => answer === 'fulfilled'), `healthy share: ${healthyAnswers.join(',')}`).to.be.true;
    expect(threadsBlockedInFuse()).to.deep.equal([]);
    expect(threadCount()).to.be.at.most(threadsBefore);
    // Every child that timed out is killed and reaped: none left waiting, none a zombie.
    await eventually(() => childPids().every((pid) => !['D', 'Z'].includes(processState(pid) ?? '')));
    expect(await probe.stat(healthy, { timeoutMs: 5_000 })).to.include({ isDirectory: true });
  });

  it('kills the child of a timed-out stat (reaped, no zombie) and answers the next call from a new one', async () => {
    const mountPath = mountStandIn(host, 'registry/stopped', 'stopped');
    await probe.stat(host.root, { timeoutMs: 5_000 });
    const [first] = probe.probeChildPids;
    // Stopped for real before the stat, so the client never reads its request (a request it has
    // read keeps the killed child until it answers).
    const client = host.signalClient(mountPath, 'SIGSTOP');
    await eventually(() => allThreadsStopped(client));
    await expect(probe.stat(mountPath, { timeoutMs: 300 })).to.be.rejected.and.eventually.include({ code: 'ETIMEDOUT' });
    expect(probe.probeChildPids).to.deep.equal([]);
    await eventually(() => processState(first!) === undefined);
    expect(childPids()).to.not.include(first);
    expect(await probe.stat(host.root, { timeoutMs: 5_000 })).to.include({ isDirectory: true });
    expect(probe.probeChildPids).to.have.length(1).and.not.include(first);
  });

  it('with contained: false, for contrast: a timed-out stat leaves a thread of this process in the FUSE request', async () => {
    const mountPath = mountStandIn(host, 'registry/stopped', 'stopped');
    const inProcess = new NodeFileSystemProbe({ contained: false });
    host.signalClient(mountPath, 'SIGSTOP');
    await expect(inProcess.stat(mountPath, { timeoutMs: 300 })).to.be.rejected.and.eventually.include({ code: 'ETIMEDOUT' });
    expect(threadsBlockedInFuse()).to.have.length(1);
    // cleanUp lets the client go on, which frees the thread.
  });

  it('on a share slow by 1.1 x the timeout, times out while the guest on it does its I/O with 0 errors', async () => {
    const { mountPath, guest } = await startShareWithGuest(host, 'slow');
    guests.push(guest);
    const timeoutMs = 400;
    setSlowStat(host, mountPath, timeoutMs * 1.1);
    for (let i = 0; i < 5; i++) await expect(probe.stat(mountPath, { timeoutMs })).to.be.rejected.and.eventually.include({ code: 'ETIMEDOUT' });
    await guest.waitForSteps(20);
    expect(guest.errors()).to.deep.equal([]);
    // A killed child whose request the client had read waits for the answer, then goes.
    await eventually(() => childPids().every((pid) => !['D', 'Z'].includes(processState(pid) ?? '')));
    expect(threadsBlockedInFuse()).to.deep.equal([]);
    setSlowStat(host, mountPath, 0);
    expect(await probe.stat(mountPath, { timeoutMs })).to.include({ isDirectory: true });
  });

  it('works the same for an unprivileged agent: the child runs as that user and is killed on a timeout', () => {
    chmodSync(host.root, 0o755);
    const mountPath = mountStandIn(host, 'registry/stopped', 'stopped');
    host.signalClient(mountPath, 'SIGSTOP');
    const module = fileURLToPath(new URL('../../lib/filesystem/node-file-system-probe.ts', import.meta.url));
    const script = `
      import { readFileSync } from 'node:fs';
      import { readFile } from 'node:fs/promises';
      import { NodeFileSystemProbe } from ${JSON.stringify(module)};
      const probe = new NodeFileSystemProbe();
      await probe.stat('/', { timeoutMs: 10000 });
      const [child] = probe.probeChildPids;
      const uid = /^Uid:\\s+(\\d+)/m.exec(readFileSync('/proc/' + child + '/status', 'utf8'))[1];
      const codes = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => probe.stat(${JSON.stringify(mountPath)}, { timeoutMs: 300, fresh: true }).catch((e) => e.code)));
      const started = performance.now();
      await readFile('/proc/self/stat');
      const blocked = (await import('node:fs')).readdirSync('/proc/self/task').filter((t) => readFileSync('/proc/self/task/' + t + '/wchan', 'utf8').includes('request_wait_answer'));
      console.log(JSON.stringify({ uid: Number(uid), me: process.getuid(), codes, readMs: performance.now() - started, blocked: blocked.length }));
    `;
    // From the repository, where `--import tsx` finds tsx.
    const repository = fileURLToPath(new URL('../..', import.meta.url));
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      uid: 65_534, gid: 65_534, cwd: repository, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
    });
    expect(result.status, result.stderr).to.equal(0);
    const report = JSON.parse(result.stdout) as { uid: number; me: number; codes: string[]; readMs: number; blocked: number };
    expect(report).to.include({ uid: 65_534, me: 65_534, blocked: 0 });
    expect(report.codes).to.deep.equal(Array.from({ length: 6 }, () => 'ETIMEDOUT'));
    expect(report.readMs).to.be.below(500);
  });

  describe('the fixtures', () => {
    it('a share is slow on stat while its switch is on, and fast again once off', async () => {
      const mountPath = mountStandIn(host, 'registry/switch', 'switch');
      setSlowStat(host, mountPath, 300);
      let started = performance.now();
      await probe.stat(mountPath, { timeoutMs: 5_000 });
      expect(performance.now() - started).to.be.above(290);
      setSlowStat(host, mountPath, 0);
      started = performance.now();
      await probe.stat(mountPath, { timeoutMs: 5_000 });
      expect(performance.now() - started).to.be.below(250);
    });

    it('a guest logs every I/O error once its client is gone, and goes on', async () => {
      const { mountPath, guest } = await startShareWithGuest(host, 'crash');
      guests.push(guest);
      await guest.waitForSteps(8);
      expect(guest.errors()).to.deep.equal([]);
      host.signalClient(mountPath, 'SIGKILL');
      await guest.waitForSteps(8);
      const errors = guest.errors();
      expect(errors.length).to.be.at.least(6);
      // A request in flight when the client died is aborted; the ones after find no connection.
      expect(errors.every((error) => error.errno === 'ENOTCONN' || error.errno === 'ECONNABORTED'), JSON.stringify(errors)).to.be.true;
      expect(errors.some((error) => error.errno === 'ENOTCONN')).to.be.true;
    });
  });
});
