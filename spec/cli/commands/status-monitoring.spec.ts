/**
 * `status` as a monitor uses it: exit statuses, a base or state folder that is not there,
 * Prometheus output, hostile names, and what a terminal is told while a check hangs.
 */
import { expect } from 'chai';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { FileAttachmentStore } from '../../../lib/attachments/file-attachment-store.js';
import type { ProbeOptions } from '../../../lib/filesystem/file-system-probe.js';
import type { FakeHost } from '../../support/fake-host.js';
import { BASE, Collector, INSTANCE, MOUNT_PATH, NORMALISED, attachArgs, onHost, runCaptured, useCliFixture } from '../cli-harness.js';
import { runCli } from '../../../lib/cli/run-cli.js';

const STALE = '/mnt/8a971899307d4fc11c7e176697cc2570';
const HUNG = '/mnt/77f64e6c6f3eaff5b9a9f4658188ce10';

/** A terminal-like collector. */
class Terminal extends Collector {
  readonly isTTY = true;
}

describe('libvirt-volume status for monitoring', () => {
  const fixture = useCliFixture();
  let host: FakeHost;
  let state: string;

  beforeEach(() => {
    ({ host, state } = fixture);
  });

  function status(...extra: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    return runCaptured(['status', '--base', BASE, '--state', state, ...extra], onHost(host));
  }

  async function connectOne(): Promise<void> {
    expect((await runCaptured(attachArgs('connect', state), onHost(host))).exitCode).to.equal(0);
  }

  describe('exit status', () => {
    it('is 0 when every own mount is healthy and every attachment\'s share is mounted, in every format', async () => {
      await connectOne();
      for (const format of [[], ['--json'], ['--format', 'table'], ['--format', 'json'], ['--format', 'prometheus']]) {
        expect((await status(...format)).exitCode, format.join(' ')).to.equal(0);
      }
    });

    it('is 0 for an empty base', async () => {
      expect((await status()).exitCode).to.equal(0);
    });

    const degraded: Array<[string, (host: FakeHost, state: string) => Promise<void>]> = [
      ['a stale mount', (h) => { h.stats.set(MOUNT_PATH, { errno: 'ENOTCONN' }); return Promise.resolve(); }],
      ['an unresponsive mount', (h) => { h.stats.set(MOUNT_PATH, { errno: 'ETIMEDOUT' }); return Promise.resolve(); }],
      ['a foreign file system under the base', (h) => { h.mounts.push({ mountPoint: `${BASE}/scratch`, source: 'tmpfs', fsType: 'tmpfs', options: ['rw'] }); return Promise.resolve(); }],
      ['an attachment whose share is not mounted', (h) => { h.mounts.splice(0, h.mounts.length); return Promise.resolve(); }],
      ['an orphaned own mount', (h) => { h.addQuobyteMount(STALE, 'quobyte@reg:7861/stale'); return Promise.resolve(); }],
      ['a mount that cannot be checked', (h) => { h.stats.set(MOUNT_PATH, { errno: 'EACCES' }); return Promise.resolve(); }],
    ];
    for (const [title, arrange] of degraded) {
      it(`is 3 (degraded) for ${title}, in the table and JSON alike`, async () => {
        await connectOne();
        await arrange(host, state);
        const table = await status();
        const json = await status('--json');
        expect([table.exitCode, json.exitCode]).to.deep.equal([3, 3]);
        const rows = JSON.parse(json.stdout) as Array<{ mountPath: string; problems: string[] }>;
        expect(rows.some((row) => row.problems.length > 0)).to.equal(true);
        // Every row of the JSON is a row of the table, with the same mount path in the same order.
        expect(table.stdout.split('\n').slice(1, -1).map((line) => line.split('  ')[0])).to.deep.equal(rows.map((row) => row.mountPath));
      });
    }

    it('is 4 with ERR_BASE_NOT_FOUND when --base does not exist, not an empty list', async () => {
      const result = await runCaptured(['status', '--base', '/mnt/typo', '--state', state], onHost(host));
      expect(result).to.deep.equal({ exitCode: 4, stdout: '', stderr: 'libvirt-volume: ERR_BASE_NOT_FOUND: The mount point base /mnt/typo does not exist or is not a directory\n' });
    });

    it('is 4 when the base is a file', async () => {
      host.stats.set('/mnt/file', { size: 3, mode: 0o100644, uid: 0, gid: 0, isFile: true, isDirectory: false, isSymbolicLink: false });
      expect((await runCaptured(['status', '--base', '/mnt/file', '--state', state], onHost(host))).exitCode).to.equal(4);
    });

    it('is 4 with ERR_STATE_DIR_NOT_FOUND when the folder of --state does not exist', async () => {
      const result = await status('--state', `${fixture.dir}/no-such-dir/state.json`);
      expect(result).to.deep.equal({
        exitCode: 4,
        stdout: '',
        stderr: `libvirt-volume: ERR_STATE_DIR_NOT_FOUND: The folder of the attachment store ${fixture.dir}/no-such-dir/state.json does not exist\n`,
      });
    });

    it('is 1 when the check itself fails (a corrupt store), 2 for --json with another --format', async () => {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(state, '{');
      expect((await status()).exitCode).to.equal(1);
      const usage = await status('--json', '--format', 'prometheus');
      expect(usage).to.deep.equal({ exitCode: 2, stdout: '', stderr: 'libvirt-volume: ERR_USAGE: --json and --format prometheus contradict each other\n' });
      expect((await status('--format', 'yaml')).exitCode).to.equal(2);
    });

    it('is listed in status --help and the program\'s --help', async () => {
      const help = (await runCaptured(['status', '--help'])).stdout;
      for (const line of [/^ {2}0 {2}every own mount is healthy/m, /^ {2}1 {2}the check failed/m, /^ {2}2 {2}usage error/m, /^ {2}3 {2}degraded/m, /^ {2}4 {2}the base, or the folder of the state file, does not exist/m]) {
        expect(help).to.match(line);
      }
      expect((await runCaptured(['--help'])).stdout).to.match(/Exit status 3: status found a problem, or reconcile left something for an\noperator; 4: status or reconcile found no base/);
    });
  });

  describe('--format prometheus', () => {
    beforeEach(async () => {
      await connectOne();
      host.addQuobyteMount(STALE, 'quobyte@reg:7861/stale');
      host.stats.set(STALE, { errno: 'ENOTCONN' });
      host.addQuobyteMount(HUNG, 'quobyte@reg:7861/hu"ng\\\n');
      host.stats.set(HUNG, { errno: 'ETIMEDOUT' });
      await new FileAttachmentStore(state).add(HUNG, `${INSTANCE}/volume-hung`);
    });

    it('parses as the text format: one gauge per mount with its health, attachments, per-health counts, orphans', async () => {
      const result = await status('--format', 'prometheus');
      expect(result.exitCode).to.equal(0);
      expect(result.stderr).to.equal('');
      const families = parsePrometheusTextFormat(result.stdout);
      const byName = new Map(families.map((family) => [family.name, family]));
      expect([...byName.keys()]).to.have.members(['libvirt_volume_mount_health', 'libvirt_volume_mount_attachments', 'libvirt_volume_mounts', 'libvirt_volume_orphaned_mounts', 'libvirt_volume_degraded']);
      for (const family of families) expect(family.type, family.name).to.equal('GAUGE');
      expect(byName.get('libvirt_volume_mount_health')?.metrics).to.deep.equal([
        { value: '1', labels: { base: BASE, mount_path: HUNG, export: String.raw`reg:7861/hu"ng\\012`, health: 'unresponsive' } },
        { value: '1', labels: { base: BASE, mount_path: STALE, export: 'reg:7861/stale', health: 'stale' } },
        { value: '1', labels: { base: BASE, mount_path: MOUNT_PATH, export: NORMALISED, health: 'healthy' } },
      ]);
      expect(byName.get('libvirt_volume_mount_attachments')?.metrics.map((m) => [m.labels?.mount_path, m.value])).to.deep.equal([[HUNG, '1'], [STALE, '0'], [MOUNT_PATH, '1']]);
      expect(Object.fromEntries(byName.get('libvirt_volume_mounts')?.metrics.map((m) => [m.labels?.health, m.value]) ?? [])).to.deep.equal({
        healthy: '1', stale: '1', unresponsive: '1', foreign: '0', absent: '0', unknown: '0',
      });
      expect(byName.get('libvirt_volume_orphaned_mounts')?.metrics).to.deep.equal([{ value: '1', labels: { base: BASE } }]);
      expect(byName.get('libvirt_volume_degraded')?.metrics).to.deep.equal([{ value: '1', labels: { base: BASE } }]);
    });

    it('writes every sample on one line of the format\'s grammar, and ends with a newline', async () => {
      const { stdout } = await status('--format', 'prometheus');
      expect(stdout.endsWith('\n')).to.equal(true);
      const label = String.raw`[a-z_]+="(?:[^"\\\n]|\\["\\n])*"`;
      const sample = new RegExp(`^[a-z_]+\\{${label}(?:,${label})*\\} [0-9]+$`);
      for (const line of stdout.slice(0, -1).split('\n')) {
        if (!line.startsWith('# HELP ') && !line.startsWith('# TYPE ')) expect(line).to.match(sample);
      }
    });

    it('says degraded 0 and no orphans on a healthy host', async () => {
      const healthy = fixture.host;
      healthy.mounts.splice(0, healthy.mounts.length);
      healthy.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
      await new FileAttachmentStore(state).remove(HUNG, `${INSTANCE}/volume-hung`);
      const families = parsePrometheusTextFormat((await status('--format', 'prometheus')).stdout);
      expect(families.find((family) => family.name === 'libvirt_volume_degraded')?.metrics[0]?.value).to.equal('0');
      expect(families.find((family) => family.name === 'libvirt_volume_orphaned_mounts')?.metrics[0]?.value).to.equal('0');
    });
  });

  describe('hostile names', () => {
    it('escapes bidi controls, line separators and C1 controls in the table and the JSON; the JSON parses back to the real name', async () => {
      const evil = `${BASE}/\u202eexe.\u2066x\u2069\u2028y\u0085z\u200f`;
      host.mounts.push({ mountPoint: evil, source: 'quobyte@reg/\u202ev', fsType: 'tmpfs', options: ['rw'] });
      const table = await status();
      const json = await status('--json');
      const unsafe = /[\u0080-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
      expect(table.stdout).not.to.match(unsafe);
      expect(json.stdout).not.to.match(unsafe);
      expect(table.stdout).to.contain(String.raw`/mnt/\u202eexe.\u2066x\u2069\u2028y\u0085z\u200f`);
      const [row] = JSON.parse(json.stdout) as Array<{ mountPath: string; export: string }>;
      expect(row).to.deep.include({ mountPath: evil, export: 'reg/\u202ev' });
    });
  });

  describe('a hung check', () => {
    function hangStat(path: string): void {
      const stat = host.probe.stat;
      host.probe.stat = ((p: string, options?: ProbeOptions) =>
        p === path ? new Promise((resolve) => setTimeout(() => { resolve(stat(p, options)); }, 1500)) : stat(p, options)) as typeof host.probe.stat;
    }

    it('tells a terminal what it is waiting for', async () => {
      await connectOne();
      hangStat(MOUNT_PATH);
      const stdout = new Terminal();
      const stderr = new Terminal();
      const exitCode = await runCli(['status', '--base', BASE, '--state', state, '--probe-timeout-ms', '4000'], { ...onHost(host), stdout, stderr });
      expect(exitCode).to.equal(0);
      expect(stderr.text).to.equal(`waiting for ${MOUNT_PATH} to answer stat (gives up after 4000 ms)\n`);
      expect(stdout.text).to.contain('healthy');
    });

    it('says nothing extra when stderr is not a terminal', async () => {
      await connectOne();
      hangStat(MOUNT_PATH);
      const result = await status();
      expect(result.stderr).to.equal('');
      expect(result.exitCode).to.equal(0);
    });
  });
});
