/**
 * Crashes (issue 9): an agent connecting and disconnecting at random is killed with `kill -9`
 * (its whole process group, as a service manager does) at a random moment, and a new agent
 * process runs `reconcile()`: every time, a mount exists under the base iff an attachment is
 * recorded on it, or the report names it. And a connect that fails after it mounted never
 * leaves the share behind, even when the store turned corrupt meanwhile.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { FileAttachmentStore } from '../../lib/attachments/file-attachment-store.js';
import type { ReconcileReport } from '../../lib/drivers/reconcile.js';
import { mountDirectoryName } from '../../lib/drivers/quobyte-export.js';
import { AttachmentStoreError } from '../../lib/errors.js';
import { encodeFileName } from '../../lib/filesystem/file-name.js';
import { AGENT_MODE, AGENT_UID, argvOf, ownAgentProcess } from './support/agent-driver.js';
import { RealHost, ensureFuseControl, pgrep, requireRealHost } from './support/real-host.js';
import { STATE_FILE_NAME, ci, eventually, guest, makeDriver, mountLayers, sleep, spawnTsx, writeBackingImage } from './support/driver-scene.js';

use(chaiAsPromised);

/** 50 in CI; fewer on a laptop, where each kill costs seconds (LVD_CRASH_KILLS overrides). */
const KILLS = Number(process.env.LVD_CRASH_KILLS ?? (process.env.CI === 'true' ? 50 : 12));
/** The kill comes 0 to this many ms after the agent starts its 1st, 2nd or 3rd operation. */
const MAX_DELAY_MS = 1_200;
const EXPORTS = ['registry/crash-a', 'registry/crash-b'];

/** An agent process, with its stdout as lines. */
class Agent {
  readonly lines: string[] = [];
  constructor(readonly child: ChildProcess) {
    let rest = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    child.stderr?.resume();
  }
  async line(prefix: string, ms = 60_000): Promise<string> {
    await eventually(() => this.lines.some((line) => line.startsWith(prefix)), ms, `agent line ${prefix}`);
    const line = this.lines.find((candidate) => candidate.startsWith(prefix))!;
    this.lines.splice(this.lines.indexOf(line), 1);
    return line.slice(prefix.length).trim();
  }
  send(command: string): void {
    this.child.stdin?.write(`${command}\n`);
  }
}

/** Live (non-zombie) processes in a process group. */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields[0] !== 'Z' && Number(fields[2]) === pgid;
    } catch {
      return false;
    }
  }).map(Number);
}

describe('crashes: kill -9 at random points, then reconcile() in a new process (real mounts)', function () {
  this.timeout(300_000);
  let host: RealHost;
  const agents: Agent[] = [];

  before(function () {
    requireRealHost(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    for (const name of EXPORTS) writeBackingImage(host, name);
  });

  afterEach(() => {
    for (const agent of agents.splice(0)) {
      try {
        process.kill(-agent.child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
    host.cleanUp();
  });

  // In the agent pass each crash agent runs as nobody through sudo and the helper, the reconcile
  // after a kill too (the next agent); the kill takes its group: node, sudo, the helper and its command.
  it(`${KILLS} kills${AGENT_MODE ? ' of an agent running as nobody through the helper' : ''}: mounts and store agree after each reconcile`, async () => {
    const mountPaths = EXPORTS.map((name) => join(host.mountBase, mountDirectoryName(name)));
    const store = join(host.mountBase, STATE_FILE_NAME);
    const own = ownAgentProcess(host);
    const start = (): Agent => {
      const agent = new Agent(spawnTsx('spec/integration/support/processes/crash-agent.ts', [JSON.stringify({ base: host.mountBase, exports: EXPORTS, guests: [1, 2], ...own.driver })], host.env, { detached: true, ...own.spawn }));
      agents.push(agent);
      return agent;
    };
    let next = start();
    const disagreements: string[] = [];
    const reconcileMs: number[] = [];
    const verbs: string[] = [];
    const reported = { unmounted: 0, kept: 0, missing: 0, stacked: 0 };
    for (let kill = 0; kill <= KILLS; kill += 1) {
      const agent = next;
      expect(Number(await agent.line('READY')), 'the agent\'s uid').to.equal(AGENT_MODE ? AGENT_UID : 0);
      agent.send('reconcile');
      const report = JSON.parse(await agent.line('RECONCILED')) as ReconcileReport & { ms: number };
      reconcileMs.push(report.ms);
      for (const key of ['unmounted', 'kept', 'missing', 'stacked'] as const) reported[key] += report[key].length;
      // Agree: a mount iff an attachment is recorded on it, unless the report names it.
      const layers = mountLayers(host.mountBase);
      const table = await new FileAttachmentStore(store).entries();
      for (const mountPath of mountPaths) {
        const mounted = layers.has(mountPath);
        const recorded = (table.get(mountPath) ?? []).length > 0;
        const named = report.kept.includes(mountPath) || report.missing.some((entry) => entry.mountPath === mountPath);
        if (mounted !== recorded && !named) disagreements.push(`after kill ${kill}: ${mountPath} mounted ${mounted}, recorded ${recorded}, report ${JSON.stringify(report)}`);
        if ((layers.get(mountPath) ?? 0) > 1) disagreements.push(`after kill ${kill}: ${mountPath} stacked`);
      }
      if (kill === KILLS) break;
      // The next agent starts while this one works (a Node start takes seconds on a busy host).
      next = start();
      agent.send('go');
      await agent.line('GO');
      const operations = 1 + Math.floor(Math.random() * 3);
      for (let op = 0; op < operations; op += 1) verbs.push(await agent.line('OP'));
      await sleep(Math.random() * MAX_DELAY_MS);
      process.kill(-agent.child.pid!, 'SIGKILL');
      // Its mount or umount command goes with it (same group); the client daemons do not.
      await eventually(() => groupMembers(agent.child.pid!).length === 0, 10_000, 'killed group gone');
      // Through sudo too: no helper of this host outlives the agent (sudo runs no pty without a terminal).
      if (AGENT_MODE) expect(pgrep(`${host.root}/etc/helper.json`), `after kill ${kill}: helpers left`).to.deep.equal([]);
      agents.splice(agents.indexOf(agent), 1);
    }
    expect(disagreements).to.deep.equal([]);
    expect(Math.max(...reconcileMs), 'slowest reconcile (ms), a dead holder\'s lock included').to.be.below(5_000);
    console.log(`      figures: ${KILLS} kills, ${KILLS - disagreements.length}/${KILLS} agree, reconcile max ${Math.max(...reconcileMs).toFixed(0)} ms, reported ${JSON.stringify(reported)}, ${host.invocations().length} mount commands, operations started ${verbs.filter((v) => v === 'connect').length} connect / ${verbs.filter((v) => v === 'disconnect').length} disconnect`);
    expect(host.invocations().length).to.be.above(KILLS / 5);
  });

  it('a connect that fails after it mounted leaves nothing mounted, even when the store turned corrupt meanwhile', async () => {
    const exportName = EXPORTS[0]!;
    // The mount takes 1.5 s: time enough to plant garbage where this mount point's records go.
    const { driver, runner } = makeDriver(host, {}, { QUOBYTE_STANDIN_DELAY_MS: '1500' });
    const mountPath = driver.getMountPath(ci(exportName));
    const connecting = driver.connectVolume(ci(exportName), guest(1));
    // Once the client runs (an agent process starts slower than 500 ms on a busy host).
    await eventually(() => host.invocations().length > 0, 30_000, 'the mount command started');
    const folder = join(host.mountBase, `${STATE_FILE_NAME}.d`, encodeFileName(mountPath)!);
    mkdirSync(join(folder, 'not-a-record'), { recursive: true });
    await expect(connecting).to.be.rejectedWith(AttachmentStoreError);
    expect(runner.argv).to.deep.equal([argvOf(host).mount(exportName), argvOf(host).umount(exportName)]);
    expect(mountLayers(host.mountBase)).to.deep.equal(new Map());
    // The garbage is left for the operator to look at.
    expect(readdirSync(folder)).to.deep.equal(['not-a-record']);
  });
});
