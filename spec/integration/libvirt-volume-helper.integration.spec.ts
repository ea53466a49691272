/**
 * `libvirt-volume-helper` run the way an unprivileged agent runs it: as `nobody`, through
 * `sudo -n` and a sudoers drop-in that allows only the helper, on real FUSE mounts of the
 * stand-in client. Every test compares the whole mount table before and after.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { HELPER_EXIT } from '../../lib/drivers/helper-commands.js';
import { mountDirectoryName } from '../../lib/drivers/quobyte-export.js';
import { difference, mountTable } from './support/mount-table.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';
import { installHelper, requireSudoTools } from './support/sudo-helper.js';

const AGENT = 65_534; // nobody
const EXPORT = 'reg:7861/vol';
const MD5 = mountDirectoryName(EXPORT);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs argv as the agent user, with no groups. */
function asAgent(argv: readonly string[], timeout = 60_000): { status: number | null; stderr: string } {
  const result = spawnSync('setpriv', [`--reuid=${AGENT}`, `--regid=${AGENT}`, '--clear-groups', ...argv], { encoding: 'utf8', cwd: '/', timeout });
  return { status: result.status, stderr: result.stderr };
}

describe('libvirt-volume-helper as an unprivileged agent through sudo (real mounts)', function () {
  this.timeout(120_000);
  let host: RealHost;
  let helper: string;
  let mountPath: string;
  let victim: string;
  let tableBefore: string[];
  const sudoers = `/etc/sudoers.d/lvd-helper-it-${process.pid}`;
  const run = (...argv: string[]): { status: number | null; stderr: string } => asAgent(['sudo', '-n', helper, ...argv]);

  before(function () {
    requireRealHost(this);
    requireSudoTools(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    chmodSync(host.root, 0o755); // the agent may reach the base: its attacks must fail on the base itself
    victim = join(host.root, 'victim');
    mkdirSync(victim);
    // sudo runs one fixed root-owned path; the stand-in's environment is set there, not by the caller.
    helper = installHelper(host, sudoers);
    mountPath = join(host.mountBase, MD5);
    tableBefore = mountTable(host.root);
  });

  afterEach(() => {
    try {
      rmSync(sudoers, { force: true });
      spawnSync('umount', ['-l', victim]);
    } finally {
      host.cleanUp();
    }
  });

  it('allows the agent the helper and nothing else', () => {
    expect(asAgent(['sudo', '-n', '/usr/bin/umount', victim]).status).to.equal(1);
    expect(asAgent(['sudo', '-n', '/bin/true']).status).to.equal(1);
  });

  it('mounts exactly at <base>/<md5> and unmounts it; nothing else in the mount table changes', () => {
    expect(run('mount', `quobyte://${EXPORT}`)).to.include({ status: HELPER_EXIT.ok });
    expect(difference(mountTable(host.root), tableBefore)).to.deep.equal({ added: [`${mountPath} fuse.quobyte quobyte@${EXPORT}`], removed: [] });
    expect(host.invocations().map((argv) => argv.slice(1))).to.deep.equal([['--disable-xattrs', EXPORT, mountPath]]);
    expect(run('mount', EXPORT)).to.include({ status: HELPER_EXIT.nothingToDo });
    expect(run('umount', EXPORT)).to.include({ status: HELPER_EXIT.ok });
    expect(mountTable(host.root)).to.deep.equal(tableBefore);
    expect(existsSync(mountPath)).to.be.false;
    expect(run('umount', EXPORT)).to.include({ status: HELPER_EXIT.nothingToDo });
  });

  it('reports a busy unmount with exit 32 and umount\'s own text, and keeps the mount', () => {
    expect(run('mount', EXPORT).status).to.equal(HELPER_EXIT.ok);
    const fd = openSync(join(mountPath, 'held'), 'w');
    try {
      const busy = run('umount', EXPORT);
      expect(busy.status).to.equal(HELPER_EXIT.umountFailed);
      expect(busy.stderr).to.match(/target is busy/i);
      expect(host.mounts().map((entry) => entry.mountPoint)).to.deep.equal([mountPath]);
    } finally {
      closeSync(fd);
    }
    expect(run('umount', EXPORT).status).to.equal(HELPER_EXIT.ok);
    expect(mountTable(host.root)).to.deep.equal(tableBefore);
  });

  it('repairs a hung mount: abort frees it without touching it, then a lazy unmount detaches it', async () => {
    expect(run('mount', EXPORT).status).to.equal(HELPER_EXIT.ok);
    host.signalClient(mountPath, 'SIGSTOP');
    await sleep(1_500); // past the kernel's attribute cache
    const started = Date.now();
    expect(run('abort', EXPORT)).to.include({ status: HELPER_EXIT.ok });
    // Aborted: a stat of the mount fails at once instead of hanging.
    const stat = spawnSync('stat', [mountPath], { encoding: 'utf8', timeout: 5_000 });
    expect(stat.error).to.equal(undefined);
    expect(stat.stderr).to.match(/connection aborted|not connected/i);
    expect(run('umount', EXPORT, '--lazy').status).to.equal(HELPER_EXIT.ok);
    expect(Date.now() - started).to.be.below(30_000);
    expect(mountTable(host.root)).to.deep.equal(tableBefore);
  });

  it('never aborts a hung mount a guest holds open (slow is not dead) unless told --force', async () => {
    expect(run('mount', EXPORT).status).to.equal(HELPER_EXIT.ok);
    writeFileSync(join(mountPath, 'disk'), 'guest data');
    // A guest: the image open, as qemu holds it. The agent (not root) cannot see this; the helper can.
    const guest = spawn('/usr/bin/python3', ['-c', 'import sys,time; f=open(sys.argv[1],"rb"); print("open", flush=True); time.sleep(120)', join(mountPath, 'disk')], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => guest.stdout.once('data', resolve));
      host.signalClient(mountPath, 'SIGSTOP');
      await sleep(1_500); // past the kernel's attribute cache
      const refused = run('abort', EXPORT);
      expect(refused.status).to.equal(HELPER_EXIT.refused);
      expect(refused.stderr).to.match(/in use \(files open by 1 process/);
      expect(run('abort', EXPORT, '--force').status).to.equal(HELPER_EXIT.ok);
      expect(spawnSync('stat', [mountPath], { encoding: 'utf8', timeout: 5_000 }).stderr).to.match(/connection aborted|not connected/i);
    } finally {
      guest.kill('SIGKILL');
    }
    expect(run('umount', EXPORT, '--lazy').status).to.equal(HELPER_EXIT.ok);
  });

  it('withstands the agent swapping <base>/<md5> for a link in a loop while it mounts', async () => {
    const stop = join(host.root, 'stop');
    const attack = String.raw`
import json, os, sys, time
target, victim, stop = sys.argv[1:4]
tries, wins, errors = 0, 0, {}
end = time.time() + 60
while time.time() < end and not os.path.exists(stop):
    for act in (lambda: os.rename(target, target + '.old'), lambda: os.symlink(victim, target), lambda: os.symlink(victim, target + '.new'), lambda: os.rename(target + '.new', target)):
        tries += 1
        try:
            act(); wins += 1
        except OSError as e:
            errors[e.strerror] = errors.get(e.strerror, 0) + 1
print(json.dumps({'tries': tries, 'wins': wins, 'errors': errors}))
`;
    const attacker = spawn('setpriv', [`--reuid=${AGENT}`, `--regid=${AGENT}`, '--clear-groups', '/usr/bin/python3', '-c', attack, mountPath, victim, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
    let report = '';
    attacker.stdout.on('data', (chunk: Buffer) => { report += chunk.toString(); });
    const finished = new Promise((resolve) => attacker.on('exit', resolve));
    await sleep(300);
    const results = [run('mount', EXPORT), run('umount', EXPORT), run('mount', EXPORT)];
    writeFileSync(stop, '');
    await finished;
    const { tries, wins, errors } = JSON.parse(report) as { tries: number; wins: number; errors: Record<string, number> };
    expect(results.map((result) => result.status)).to.deep.equal([HELPER_EXIT.ok, HELPER_EXIT.ok, HELPER_EXIT.ok]);
    expect(tries).to.be.above(100);
    expect(wins).to.equal(0);
    // Each act failed: on the root-owned base with EACCES (or ENOENT/EEXIST before it was checked).
    expect(errors).to.have.property('Permission denied').above(0);
    expect(Object.keys(errors)).to.have.members(Object.keys(errors).filter((e) => ['Permission denied', 'No such file or directory', 'File exists'].includes(e)));
    expect(difference(mountTable(host.root), tableBefore)).to.deep.equal({ added: [`${mountPath} fuse.quobyte quobyte@${EXPORT}`], removed: [] });
    expect(run('umount', EXPORT).status).to.equal(HELPER_EXIT.ok);
  });

  describe('the old layout: a base the agent owns', () => {
    beforeEach(() => {
      expect(spawnSync('mount', ['-t', 'tmpfs', 'unrelated', victim]).status).to.equal(0);
      tableBefore = mountTable(host.root);
      chownSync(host.mountBase, AGENT, AGENT);
      expect(asAgent(['ln', '-s', victim, mountPath]).status).to.equal(0);
    });

    it('the helper refuses it: nothing mounted or unmounted, the planted link left alone', () => {
      for (const argv of [['mount', EXPORT], ['umount', EXPORT], ['umount', EXPORT, '--lazy'], ['abort', EXPORT]]) {
        const result = run(...argv);
        expect(result.status).to.equal(HELPER_EXIT.refused);
        expect(result.stderr).to.match(/The mount base .* is not safe: .* is owned by uid 65534/);
      }
      expect(mountTable(host.root)).to.deep.equal(tableBefore);
      expect(host.invocations()).to.deep.equal([]);
    });

    it('why: under the old sudoers rule the agent unmounts any file system through a planted link', () => {
      writeFileSync(sudoers, `nobody ALL=(root) NOPASSWD: /usr/bin/umount ^(-l )?${host.mountBase}/[0-9a-f]{32}$\n`, { mode: 0o440 });
      expect(asAgent(['sudo', '-n', '/usr/bin/umount', mountPath]).status).to.equal(0);
      expect(difference(mountTable(host.root), tableBefore)).to.deep.equal({ added: [], removed: [`${victim} tmpfs unrelated`] });
    });
  });
});
