/**
 * The driver run by an unprivileged agent: a child process as `nobody`, with
 * `privilegedHelper: ['sudo', '-n', <helper>]` and a sudoers drop-in that allows only the
 * helper, against real FUSE mounts of the stand-in client. The helper's configuration and the
 * base are root's; the agent's attachment store is in a folder it owns. The mount table is
 * read by root, whole.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { mountDirectoryName } from '../../lib/drivers/quobyte-export.js';
import { difference, mountTable } from './support/mount-table.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';
import { installHelper, requireSudoTools } from './support/sudo-helper.js';

const WORKTREE = fileURLToPath(new URL('../../', import.meta.url));
const AGENT = 65_534; // nobody
const GUEST_A = '11111111-1111-4111-8111-111111111111';
const GUEST_B = '22222222-2222-4222-8222-222222222222';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Reply = { ok: unknown; error?: undefined } | { ok?: undefined; error: { name: string; message: string; code?: string } };

/** The agent child: one driver as `nobody`, one request at a time. */
class Agent {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<number, (reply: Reply) => void>();
  readonly ready: Promise<number>;
  #next = 0;

  constructor(options: Record<string, unknown>) {
    this.#child = spawn('setpriv', [`--reuid=${AGENT}`, `--regid=${AGENT}`, '--clear-groups', process.execPath, '--import', 'tsx', 'spec/integration/fixtures/agent-server.ts', JSON.stringify(options)], { cwd: WORKTREE, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
    let stderr = '';
    this.#child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const lines = createInterface({ input: this.#child.stdout });
    this.ready = new Promise((resolve, reject) => {
      this.#child.once('exit', (code) => { reject(new Error(`agent exited ${String(code)}: ${stderr}`)); });
      lines.on('line', (line) => {
        const message = JSON.parse(line) as { ready?: number; id?: number } & Reply;
        if (message.ready !== undefined) resolve(message.ready);
        else if (message.id !== undefined) this.#waiting.get(message.id)?.(message);
      });
    });
  }

  async request(op: string, fields: Record<string, unknown> = {}): Promise<Reply> {
    await this.ready;
    const id = (this.#next += 1);
    const reply = new Promise<Reply>((resolve) => this.#waiting.set(id, resolve));
    this.#child.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    return reply;
  }

  /** The result, or the test fails with the agent's error. */
  async ok(op: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    const reply = await this.request(op, fields);
    if (reply.error !== undefined) throw new Error(`${op} failed in the agent: ${reply.error.code ?? reply.error.name}: ${reply.error.message}`);
    return reply.ok;
  }

  stop(): void {
    this.#child.kill('SIGKILL');
  }
}

describe('the driver as an unprivileged agent through sudo and libvirt-volume-helper (real mounts)', function () {
  this.timeout(120_000);
  let host: RealHost;
  let helper: string;
  let store: string;
  let agent: Agent | undefined;
  let tableBefore: string[];
  const sudoers = `/etc/sudoers.d/lvd-agent-it-${process.pid}`;
  const EXPORT = 'registry/agent';
  const mountPathOf = (exportName: string): string => join(host.mountBase, mountDirectoryName(exportName));
  const holders: Array<{ kill(signal: NodeJS.Signals): boolean }> = [];

  function startAgent(options: { store?: string | null; probeTimeoutMs?: number } = {}): Agent {
    const chosen = options.store === null ? {} : { store: options.store ?? store };
    agent = new Agent({ mountPointBase: host.mountBase, privilegedHelper: ['sudo', '-n', helper], probeTimeoutMs: options.probeTimeoutMs ?? 2_000, ...chosen });
    return agent;
  }

  /** Holds a file under the mount open from a root process (a guest's qemu, say). */
  async function holdOpen(path: string): Promise<void> {
    const holder = spawn('sh', ['-c', 'exec 3<"$1"; echo ready; exec sleep 60', 'holder', path], { stdio: ['ignore', 'pipe', 'ignore'] });
    holders.push(holder);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
  }

  before(function () {
    requireRealHost(this);
    requireSudoTools(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    chmodSync(host.root, 0o755);
    // Root's: the helper, its configuration, the base.
    helper = installHelper(host, sudoers);
    // The agent's: the folder of its attachment store.
    const own = join(host.root, 'agent');
    mkdirSync(own, { mode: 0o755 });
    chownSync(own, AGENT, AGENT);
    store = join(own, 'attachments.json');
    tableBefore = mountTable(host.root);
  });

  afterEach(() => {
    agent?.stop();
    agent = undefined;
    for (const holder of holders.splice(0)) holder.kill('SIGKILL');
    try {
      rmSync(sudoers, { force: true });
    } finally {
      host.cleanUp();
    }
  });

  it('runs as nobody, and sudo allows it the helper and nothing else', async () => {
    expect(await startAgent().ready).to.equal(AGENT);
    const asAgent = (argv: string[]): number | null => spawnSync('setpriv', [`--reuid=${AGENT}`, `--regid=${AGENT}`, '--clear-groups', ...argv], { cwd: '/' }).status;
    expect(asAgent(['sudo', '-n', '/usr/bin/umount', host.mountBase])).to.equal(1);
    expect(asAgent(['sudo', '-n', '/bin/true'])).to.equal(1);
  });

  it('connects: the helper mounts exactly at <base>/<md5>; nothing else in the mount table changes', async () => {
    const agentProcess = startAgent();
    expect(await agentProcess.ok('connect', { export: `quobyte://${EXPORT}` })).to.deep.include({ mountPath: mountPathOf(EXPORT), action: 'mounted' });
    expect(difference(mountTable(host.root), tableBefore)).to.deep.equal({ added: [`${mountPathOf(EXPORT)} fuse.quobyte quobyte@${EXPORT}`], removed: [] });
    expect(host.invocations().map((argv) => argv.slice(1))).to.deep.equal([['--disable-xattrs', EXPORT, mountPathOf(EXPORT)]]);
    expect(await agentProcess.ok('attachments')).to.deep.equal({ [mountPathOf(EXPORT)]: [`${GUEST_A}/volume-1`] });
    // The store is the agent's; the base holds nothing but root's directory.
    expect(existsSync(join(host.mountBase, '.libvirt-volume-attachments.json.d'))).to.equal(false);
  });

  it('shares one mount between two guests and unmounts it through the helper when the last leaves', async () => {
    const agentProcess = startAgent();
    await agentProcess.ok('connect', { export: EXPORT, name: 'volume-a', guest: GUEST_A });
    await agentProcess.ok('connect', { export: EXPORT, name: 'volume-b', guest: GUEST_B });
    expect(host.invocations()).to.have.length(1);
    expect(await agentProcess.ok('disconnect', { export: EXPORT, name: 'volume-a', guest: GUEST_A })).to.deep.equal({ unmounted: false, reason: 'in-use' });
    expect(host.mounts()).to.have.length(1);
    expect(await agentProcess.ok('disconnect', { export: EXPORT, name: 'volume-b', guest: GUEST_B })).to.deep.equal({ unmounted: true, reason: 'unmounted' });
    expect(mountTable(host.root)).to.deep.equal(tableBefore);
    expect(existsSync(mountPathOf(EXPORT))).to.equal(false);
  });

  it('repairs a crashed client (kill -9) on the next connect, with the data intact', async () => {
    const agentProcess = startAgent();
    await agentProcess.ok('connect', { export: EXPORT });
    writeFileSync(join(mountPathOf(EXPORT), 'volume-1'), 'guest data');
    host.signalClient(mountPathOf(EXPORT), 'SIGKILL');
    await sleep(1_500); // past the kernel's attribute cache
    expect(await agentProcess.ok('inspect', { export: EXPORT })).to.deep.equal({ state: 'stale', reason: 'not-connected' });
    expect(await agentProcess.ok('connect', { export: EXPORT, guest: GUEST_B })).to.deep.include({ action: 'repaired', staleReason: 'not-connected' });
    expect(readFileSync(join(mountPathOf(EXPORT), 'volume-1'), 'utf8')).to.equal('guest data');
    expect(difference(mountTable(host.root), tableBefore).added).to.have.length(1);
    expect(host.invocations()).to.have.length(2);
  });

  it('repairs a hung mount of an unused share: abort and lazy unmount through the helper, mounted again, in bounded time', async () => {
    // Mounted by the helper, then the agent died before it recorded anything: an unused share.
    expect(spawnSync('setpriv', [`--reuid=${AGENT}`, `--regid=${AGENT}`, '--clear-groups', 'sudo', '-n', helper, 'mount', EXPORT], { cwd: '/' }).status).to.equal(0);
    host.signalClient(mountPathOf(EXPORT), 'SIGSTOP');
    await sleep(1_500);
    const agentProcess = startAgent({ probeTimeoutMs: 1_000 });
    await agentProcess.ready;
    const started = performance.now();
    expect(await agentProcess.ok('connect', { export: EXPORT })).to.deep.include({ action: 'repaired', staleReason: 'unresponsive' });
    expect(performance.now() - started).to.be.below(20_000);
    expect(await agentProcess.ok('inspect', { export: EXPORT })).to.deep.equal({ state: 'healthy' });
    expect(difference(mountTable(host.root), tableBefore).added).to.deep.equal([`${mountPathOf(EXPORT)} fuse.quobyte quobyte@${EXPORT}`]);
  });

  it('reports busy and keeps the mount while a guest holds a file on it', async () => {
    const agentProcess = startAgent();
    await agentProcess.ok('connect', { export: EXPORT });
    const image = join(mountPathOf(EXPORT), 'volume-1');
    writeFileSync(image, 'open me');
    await holdOpen(image);
    expect(await agentProcess.ok('disconnect', { export: EXPORT })).to.deep.equal({ unmounted: false, reason: 'busy' });
    expect(host.mounts()).to.have.length(1);
    expect(await agentProcess.ok('attachments')).to.deep.equal({});
  });

  describe('what an unprivileged agent cannot do', () => {
    it('keep its store in the root-owned base (the default): refused, nothing left mounted', async () => {
      const agentProcess = startAgent({ store: null });
      const reply = await agentProcess.request('connect', { export: EXPORT });
      expect(reply.error?.code, JSON.stringify(reply)).to.equal('ERR_ATTACHMENT_STORE');
      expect(mountTable(host.root)).to.deep.equal(tableBefore);
    });

    // /proc/<pid>/fd of other users' processes is closed to it: it counts a guest's qemu as no
    // user, and once repaired (aborted) a hung share in use. The helper, root, counts them.
    it('see files other users hold open on a hung share: the helper refuses to abort it, the connect is refused and the share left alone', async () => {
      expect(spawnSync('setpriv', [`--reuid=${AGENT}`, `--regid=${AGENT}`, '--clear-groups', 'sudo', '-n', helper, 'mount', EXPORT], { cwd: '/' }).status).to.equal(0);
      const image = join(mountPathOf(EXPORT), 'volume-1');
      writeFileSync(image, 'in use by a guest the agent does not know of');
      await holdOpen(image);
      host.signalClient(mountPathOf(EXPORT), 'SIGSTOP');
      await sleep(1_500);
      const agentProcess = startAgent({ probeTimeoutMs: 1_000 });
      const tableHung = mountTable(host.root);
      const reply = await agentProcess.request('connect', { export: EXPORT });
      expect(reply.error?.code, JSON.stringify(reply)).to.equal('ERR_VOLUME_UNRESPONSIVE');
      expect(reply.error?.message).to.match(/is in use \(files open by 1 process\(es\)\); not aborted/);
      expect(mountTable(host.root)).to.deep.equal(tableHung);
      expect(host.invocations()).to.have.length(1);
      expect(await agentProcess.ok('attachments')).to.deep.equal({});
      // The operator may still take it, by hand: the helper's --force.
      host.signalClient(mountPathOf(EXPORT), 'SIGCONT');
      expect(spawnSync('setpriv', [`--reuid=${AGENT}`, `--regid=${AGENT}`, '--clear-groups', 'sudo', '-n', helper, 'abort', EXPORT, '--force'], { cwd: '/' }).status).to.equal(0);
    });
  });
});
