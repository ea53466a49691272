/**
 * `libvirt-volume status` runs without the supervising child process (it looks at mounts only
 * through the probe's killable children). This is the proof that it may: with a stand-in client
 * stopped (SIGSTOP), the real executable reports the hung mount and exits by itself within
 * bounded time, having forked nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { FileAttachmentStore } from '../../lib/attachments/file-attachment-store.js';
import { EXIT_DEGRADED } from '../../lib/cli/cli-exit.js';
import type { VolumeStatus } from '../../lib/cli/list-volume-status.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { NodeFileSystemProbe } from '../../lib/filesystem/node-file-system-probe.js';
import { childEnv } from '../support/child-env.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';
import { describeRootAgentOnly } from './support/agent-driver.js';

const MAIN = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url));
const LOG_FORKS = fileURLToPath(new URL('../cli/fixtures/log-forks.ts', import.meta.url));
/** The kernel's FUSE attribute cache answers stat for about a second after a client stops. */
const ATTRIBUTE_CACHE_MS = 1_500;
const PROBE_TIMEOUT_MS = 500;
const GUEST = { uuid: '11111111-1111-4111-8111-111111111111' };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the executable; resolves once it exits by itself (never killed here: the spec's timeout fails it). */
function runStatus(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', LOG_FORKS, MAIN, 'status', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => { resolve({ code, signal, stdout, stderr, ms: performance.now() - started }); });
  });
}

describeRootAgentOnly("the CLI is the operator's tool, run as root; an unprivileged agent's view of a hung mount is checked through its driver in hung-shares", 'libvirt-volume status with a hung mount, unsupervised', function () {
  this.timeout(60_000);
  let host: RealHost;

  before(function () {
    requireRealHost(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
  });

  afterEach(() => {
    host.cleanUp();
  });

  it('reports the stopped client as unresponsive, the other as healthy, and exits by itself without forking', async () => {
    const state = join(host.root, 'attachments.json');
    const probe = new NodeFileSystemProbe();
    const driver = new QuobyteVolumeDriver({ mountPointBase: host.mountBase, runner: host.runner(), probe, systemd: false, attachments: new FileAttachmentStore(state) });
    const hung = { driver_volume_type: 'quobyte', data: { export: 'registry/hung', name: 'volume-1' } };
    const fine = { driver_volume_type: 'quobyte', data: { export: 'registry/fine', name: 'volume-1' } };
    await driver.connectVolume(hung, GUEST);
    await driver.connectVolume(fine, GUEST);
    probe.close();
    host.signalClient(driver.getMountPath(hung), 'SIGSTOP');
    await sleep(ATTRIBUTE_CACHE_MS);

    // Twice: the second run meets the mount with the first run's killed probe child still stuck on it.
    for (let run = 0; run < 2; run += 1) {
      const result = await runStatus(['--json', '--base', host.mountBase, '--state', state, '--probe-timeout-ms', String(PROBE_TIMEOUT_MS)], childEnv({ ...host.env }));
      expect(result.stderr.split('\n')).not.to.include('FORK');
      expect(result.signal).to.equal(null);
      expect(result.code, result.stderr).to.equal(EXIT_DEGRADED);
      // A Node start with tsx, the probe timeout and the rest, on a busy 2-core machine: bounded, far from a hang.
      expect(result.ms).to.be.below(20_000);
      const rows = JSON.parse(result.stdout) as VolumeStatus[];
      const byPath = new Map(rows.map((row) => [row.mountPath, row]));
      expect(byPath.get(driver.getMountPath(hung))).to.include({ health: 'unresponsive', reason: 'unresponsive' });
      expect(byPath.get(driver.getMountPath(fine))).to.include({ health: 'healthy' });
    }
  });
});
