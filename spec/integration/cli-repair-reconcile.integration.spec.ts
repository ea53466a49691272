/**
 * `libvirt-volume repair` and `reconcile` as an operator runs them, on real FUSE mounts of the
 * stand-in client: in-process through `runCli` with the real runner and probe (a Node start-up
 * costs seconds on a loaded machine), and once through the real executable and its
 * supervising process, on a hung mount.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { NodeFileSystemProbe } from '../../lib/filesystem/node-file-system-probe.js';
import { runCaptured } from '../cli/cli-harness.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';
import { describeRootAgentOnly } from './support/agent-driver.js';

const MAIN = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GUEST = '11111111-1111-4111-8111-111111111111';
/** The kernel's FUSE attribute cache answers stat for about a second after a client stops. */
const ATTRIBUTE_CACHE_MS = 1_500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeRootAgentOnly("the CLI is the operator's tool, run as root; it has no privilegedHelper option (an unprivileged agent's repair and reconcile run through the helper in hung-shares, crash-reconcile and stacked-mounts)", 'libvirt-volume repair and reconcile on real FUSE mounts', function () {
  this.timeout(90_000);
  let host: RealHost;
  let state: string;

  before(function () {
    requireRealHost(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    state = join(host.root, 'attachments.json');
  });

  afterEach(() => {
    host.cleanUp();
  });

  /** The CLI in this process, with the real runner (the stand-in first on PATH) and probe. */
  async function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    const probe = new NodeFileSystemProbe();
    try {
      const { exitCode, stdout, stderr } = await runCaptured([...args, '--base', host.mountBase, '--state', state], { env: host.env, runner: host.runner(), probe });
      return { status: exitCode, stdout, stderr };
    } finally {
      probe.close();
    }
  }

  /** The real executable: a supervising process and its child. */
  function executable(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args, '--base', host.mountBase, '--state', state], {
      cwd: ROOT,
      env: { ...process.env, ...host.env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  const volume = ['--export', 'quobyte://registry:7861/ops', '--name', 'volume-1'];

  it('repairs a crashed client, refuses a hung mount in use (6), replaces it with --force, and reconciles', async () => {
    const connected = await cli('connect', ...volume, '--instance', GUEST);
    expect(connected.status, connected.stderr).to.equal(0);
    const mountPath = /mounted (\S+),/.exec(connected.stdout)?.[1] ?? '';
    writeFileSync(join(mountPath, 'volume-1'), 'guest data');

    host.signalClient(mountPath, 'SIGKILL');
    await sleep(300);
    const repaired = await cli('repair', ...volume);
    expect(repaired, repaired.stderr).to.include({ status: 0, stdout: `repaired ${mountPath} (was stale: not-connected)\n` });
    expect(readFileSync(join(mountPath, 'volume-1'), 'utf8')).to.equal('guest data');

    host.signalClient(mountPath, 'SIGSTOP');
    await sleep(ATTRIBUTE_CACHE_MS);
    const refused = executable('repair', ...volume, '--probe-timeout-ms', '1000');
    expect(refused.status, refused.stderr).to.equal(6);
    expect(refused.stdout).to.equal('');
    expect(refused.stderr).to.match(/^libvirt-volume: ERR_VOLUME_UNRESPONSIVE: .*--force.*ENOTCONN or ECONNABORTED\n$/);
    expect(host.mounts().map((entry) => entry.mountPoint)).to.deep.equal([mountPath]);
    const dry = await cli('repair', ...volume, '--probe-timeout-ms', '1000', '--force', '--dry-run');
    expect(dry.status, dry.stderr).to.equal(0);
    expect(dry.stdout).to.match(new RegExp(`^would abort the FUSE connection \\d+ of ${mountPath} .*\\nwould run: umount -l --no-canonicalize ${mountPath}\\nwould run: mount.quobyte --disable-xattrs registry:7861/ops ${mountPath}\\n$`));

    const forced = await cli('repair', ...volume, '--probe-timeout-ms', '1000', '--force');
    expect(forced, forced.stderr).to.include({ status: 0, stdout: `repaired ${mountPath} (was stale: unresponsive)\n` });
    expect(statSync(mountPath).isDirectory()).to.equal(true);
    expect(host.mounts()).to.have.length(1);
    expect(host.invocations()).to.have.length(3);

    // The store still counts the guest: nothing for reconcile to do.
    expect(await cli('reconcile')).to.include({ status: 0, stdout: `nothing to reconcile under ${host.mountBase}\n` });
    expect(await cli('disconnect', ...volume, '--instance', GUEST)).to.include({ status: 0, stdout: `unmounted ${mountPath}\n` });
    const report = await cli('reconcile', '--json');
    expect(report.status, report.stderr).to.equal(0);
    expect(JSON.parse(report.stdout)).to.deep.equal({ dryRun: false, unmounted: [], kept: [], missing: [], stacked: [], flattened: [], foreign: [] });
    expect(host.mounts()).to.deep.equal([]);
  });

  it('keeps a busy mount no attachment needs (exit 3), and unmounts it once free (exit 0)', async () => {
    const connected = await cli('connect', ...volume, '--instance', GUEST);
    expect(connected.status, connected.stderr).to.equal(0);
    const mountPath = /mounted (\S+),/.exec(connected.stdout)?.[1] ?? '';
    // The record goes, the mount stays: what a kill -9 between mount and record leaves.
    rmSync(`${state}.d/${encodeURIComponent(mountPath)}`, { recursive: true });

    const holder = spawn('sleep', ['30'], { cwd: mountPath, stdio: 'ignore' });
    try {
      const kept = await cli('reconcile');
      expect(kept, kept.stderr).to.include({ status: 3, stdout: `kept ${mountPath}: no attachment needs it, but it is busy or hung with files open\n` });
      expect(host.mounts()).to.have.length(1);
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((resolve) => holder.once('exit', resolve));
    // The kernel may let go of the mount a moment after the holder's exit is reported.
    let result = await cli('reconcile');
    for (let attempt = 0; attempt < 10 && result.status === 3; attempt += 1) {
      await sleep(200);
      result = await cli('reconcile');
    }
    expect(result, result.stderr).to.include({ status: 0, stdout: `unmounted ${mountPath}: no attachment needs it\n` });
    expect(host.mounts()).to.deep.equal([]);
  });
});
