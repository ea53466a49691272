/**
 * Symlink attacks on a root agent's mount base, through QuobyteVolumeDriver on real FUSE mounts
 * of the stand-in client: a planted `<base>/<md5>` link, an unprivileged user swapping it in a
 * loop while the driver connects and disconnects, a re-pointed base, and a base others may write.
 * Every test compares the whole mount table before and after: nothing may be mounted or
 * unmounted outside the base.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import type { CommandRunner } from '../../lib/commands/command-runner.js';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { InsecureMountBaseError } from '../../lib/errors.js';
import { NodeFileSystemProbe } from '../../lib/filesystem/node-file-system-probe.js';
import { difference, mountTable } from './support/mount-table.js';
import { RecordingRunner } from './support/recording-runner.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';
import { describeRootAgentOnly } from './support/agent-driver.js';

use(chaiAsPromised);

const AGENT = 65_534; // nobody: the unprivileged attacker
const GUEST = { uuid: '11111111-1111-4111-8111-111111111111' };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Rounds of connect + disconnect under attack: more in CI, fewer on a shared laptop. */
const ROUNDS = Number(process.env.LVD_SYMLINK_ROUNDS ?? (process.env.CI === 'true' ? 40 : 15));

function ci(exportName: string): ConnectionInfo {
  return { driver_volume_type: 'quobyte', data: { export: exportName, name: 'volume-1' } };
}

/**
 * Watches the mount table (poll(2) on mountinfo wakes at every change) and reports every line
 * that appeared or disappeared outside the base while it ran, so a misplaced mount undone a
 * moment later is caught too.
 */
const WATCHER = String.raw`
import json, os, select, sys
base, own_root, others, stop = sys.argv[1:5]
def table():
    with open('/proc/self/mountinfo') as f:
        lines = set()
        for line in f.read().splitlines():
            fields = line.split(' ')
            sep = fields.index('-')
            point = fields[4]
            if point.startswith(base + '/'): continue
            if point.startswith(others) and not point.startswith(own_root + '/'): continue
            lines.add('%s %s %s' % (point, fields[sep + 1], fields[sep + 2]))
        return lines
initial = table()
added, removed, changes = set(), set(), 0
fd = open('/proc/self/mountinfo')
poller = select.poll()
poller.register(fd, select.POLLPRI | select.POLLERR)
print('ready', flush=True)
while not os.path.exists(stop):
    if poller.poll(100):
        changes += 1
        fd.seek(0); fd.read()
        now = table()
        added |= now - initial
        removed |= initial - now
print(json.dumps({'added': sorted(added), 'removed': sorted(removed), 'changes': changes}))
`;

/**
 * Plants, swaps and removes `<base>/<md5>` as a link to one of the victims (an empty directory
 * a mount would land on, a tmpfs an unmount would hit), holding each link a few milliseconds.
 */
const ATTACKER = String.raw`
import json, os, random, sys, time
target, stop, victims = sys.argv[1], sys.argv[2], sys.argv[3:]
tries, wins, errors = 0, {}, {}
# Each link is held a few milliseconds and removed again: the name is free about half the time,
# so the driver's own mkdir wins some rounds and the attacker's link others.
acts = [
    ('rename-away', lambda: os.rename(target, target + '.old')),
    ('plant', lambda: os.symlink(random.choice(victims), target)),
    ('hold', lambda: time.sleep(random.random() * 0.003)),
    ('unlink', lambda: os.unlink(target)),
    ('stage', lambda: os.symlink(random.choice(victims), target + '.new')),
    ('swap-in', lambda: os.rename(target + '.new', target)),
    ('hold', lambda: time.sleep(random.random() * 0.003)),
    ('unlink', lambda: os.unlink(target)),
    ('unlink-staged', lambda: os.unlink(target + '.new')),
]
end = time.time() + 60
while time.time() < end and not os.path.exists(stop):
    for name, act in acts:
        tries += 1
        try:
            act(); wins[name] = wins.get(name, 0) + 1
        except OSError as e:
            errors[e.strerror] = errors.get(e.strerror, 0) + 1
    time.sleep(random.random() * 0.003)
print(json.dumps({'tries': tries, 'wins': wins, 'errors': errors}))
`;

/** Runs a python script; resolves to its last stdout line parsed as JSON once it exits. */
function startScript(source: string, args: string[], asUser?: number): { ready: Promise<void>; done: Promise<unknown> } {
  const argv = asUser === undefined ? ['/usr/bin/python3', '-c', source, ...args] : ['setpriv', `--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', '/usr/bin/python3', '-c', source, ...args];
  const child = spawn(argv[0] ?? '', argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], cwd: '/' });
  let output = '';
  let signalReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { signalReady = resolve; });
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.startsWith('ready\n')) signalReady();
  });
  const done = new Promise<unknown>((resolve, reject) => {
    child.on('exit', (code) => {
      const last = output.trim().split('\n').at(-1) ?? '';
      if (code === 0) resolve(JSON.parse(last));
      else reject(new Error(`script exited ${String(code)}: ${output}`));
    });
  });
  if (asUser !== undefined) signalReady();
  return { ready, done };
}

describeRootAgentOnly('these are a root agent\'s own path checks (with a helper the helper checks the base: libvirt-volume-helper.integration.spec.ts), and a root agent racing links', 'symlink attacks on the mount base (real mounts, whole mount table)', function () {
  this.timeout(120_000);
  let host: RealHost;
  let runner: RecordingRunner;
  let victim: string;
  let tableBefore: string[];

  function makeDriver(mountPointBase = host.mountBase): QuobyteVolumeDriver {
    runner = new RecordingRunner(host.runner());
    return new QuobyteVolumeDriver({ mountPointBase, runner, probe: new NodeFileSystemProbe(), systemd: false, probeTimeoutMs: 2_000 });
  }

  /** Mounts a tmpfs holding a file at `path`: an unrelated file system an attack would hit. */
  function unrelatedTmpfs(path: string): void {
    mkdirSync(path, { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'unrelated', path]).status).to.equal(0);
    writeFileSync(join(path, 'keep'), 'operator data');
  }

  before(function () {
    requireRealHost(this);
    if (spawnSync('sh', ['-c', 'command -v setpriv']).status !== 0) {
      if (process.env.CI === 'true') throw new Error('setpriv is not installed');
      this.skip();
    }
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    chmodSync(host.root, 0o755); // the attacker may reach the base
    victim = join(host.root, 'victim');
    unrelatedTmpfs(victim);
    tableBefore = mountTable(host.root);
  });

  afterEach(() => {
    try {
      // Whatever an attack left mounted in the scratch area, deepest first.
      const leftovers = mountTable(host.root).map((line) => line.split(' ')[0] ?? '').filter((point) => point.startsWith(`${host.root}/`)).sort().reverse();
      for (const point of leftovers) spawnSync('umount', ['-l', point]);
    } finally {
      host.cleanUp();
    }
  });

  describe('a link planted at <base>/<md5>', () => {
    it('is refused with InsecureMountBaseError; nothing is mounted anywhere, the link is left alone', async () => {
      const driver = makeDriver();
      const volume = ci('registry/planted');
      const mountPath = driver.getMountPath(volume);
      symlinkSync(victim, mountPath);

      const error = await driver.connectVolume(volume, GUEST).then(() => undefined, (caught: unknown) => caught);
      expect(error).to.be.instanceOf(InsecureMountBaseError);
      expect(error).to.have.property('code', 'ERR_INSECURE_MOUNT_BASE');
      expect(host.invocations()).to.deep.equal([]);
      expect(mountTable(host.root)).to.deep.equal(tableBefore);
      expect((await driver.listAttachments()).size).to.equal(0);
      expect(readlinkSync(mountPath)).to.equal(victim);

      // A disconnect finds nothing of its own there: the victim's tmpfs stays mounted.
      expect(await driver.disconnectVolume(volume, GUEST)).to.deep.equal({ unmounted: false, reason: 'not-mounted' });
      expect(runner.commands).to.deep.equal([]);
      expect(mountTable(host.root)).to.deep.equal(tableBefore);
      expect(readFileSync(join(victim, 'keep'), 'utf8')).to.equal('operator data');
    });

    it('is refused when it points at a directory holding nothing (a mount would land there)', async () => {
      const driver = makeDriver();
      const volume = ci('registry/planted-empty');
      const elsewhere = join(host.root, 'elsewhere');
      mkdirSync(elsewhere);
      symlinkSync(elsewhere, driver.getMountPath(volume));
      await expect(driver.connectVolume(volume, GUEST)).to.be.rejectedWith(InsecureMountBaseError, /symbolic link/);
      expect(host.invocations()).to.deep.equal([]);
      expect(mountTable(host.root)).to.deep.equal(tableBefore);
    });

    it('is refused when it dangles (mkdir would otherwise follow nothing and mount.quobyte would create it)', async () => {
      const driver = makeDriver();
      const volume = ci('registry/planted-dangling');
      symlinkSync(join(host.root, 'not-there'), driver.getMountPath(volume));
      await expect(driver.connectVolume(volume, GUEST)).to.be.rejectedWith(InsecureMountBaseError);
      expect(host.invocations()).to.deep.equal([]);
      expect(existsSync(join(host.root, 'not-there'))).to.equal(false);
      expect(mountTable(host.root)).to.deep.equal(tableBefore);
    });
  });

  it('a race won between the directory check and the mount: the misplaced mount is found, detached, and the connect refused', async () => {
    const driver = makeDriver();
    const volume = ci('registry/race-won');
    const mountPath = driver.getMountPath(volume);
    const elsewhere = join(host.root, 'elsewhere'); // the stand-in, like mount(8), mounts on an empty directory
    mkdirSync(elsewhere);
    // Swaps the checked directory for a link the moment the client is started: the window
    // no check before the mount can close.
    const swapping: CommandRunner = {
      run: (command, options) => {
        if (command.file === 'mount.quobyte') {
          rmdirSync(mountPath);
          symlinkSync(elsewhere, mountPath);
        }
        return runner.run(command, options);
      },
    };
    const raced = new QuobyteVolumeDriver({ mountPointBase: host.mountBase, runner: swapping, probe: new NodeFileSystemProbe(), systemd: false, probeTimeoutMs: 2_000 });

    const error = await raced.connectVolume(volume, GUEST).then(() => undefined, (caught: unknown) => caught);
    expect(error, String(error)).to.be.instanceOf(InsecureMountBaseError);
    expect((error as Error).message).to.contain(`landed at ${elsewhere} instead of ${mountPath}`).and.to.contain('detached again');
    expect(runner.commands.map((command) => [command.file, ...command.args].join(' '))).to.deep.equal([
      `mount.quobyte --disable-xattrs registry/race-won ${mountPath}`,
      `umount -l --no-canonicalize ${elsewhere}`,
    ]);
    expect(mountTable(host.root)).to.deep.equal(tableBefore);
    expect((await raced.listAttachments()).size).to.equal(0);
  });

  it(`withstands an unprivileged user swapping <base>/<md5> for a link in a loop (sticky base 1777, ${ROUNDS} rounds)`, async () => {
    chmodSync(host.mountBase, 0o1777);
    const driver = makeDriver();
    const volume = ci('registry/raced');
    const mountPath = driver.getMountPath(volume);
    const stop = join(host.root, 'stop');
    const watcher = startScript(WATCHER, [host.mountBase, host.root, `${tmpdir()}/`, stop]);
    await watcher.ready;
    const elsewhere = join(host.root, 'elsewhere');
    mkdirSync(elsewhere);
    const attacker = startScript(ATTACKER, [mountPath, stop, victim, elsewhere], AGENT);
    await sleep(100);

    const outcomes: Record<string, number> = {};
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        let outcome: string;
        try {
          await driver.connectVolume(volume, GUEST);
          const after = await driver.disconnectVolume(volume, GUEST);
          outcome = `connected, then ${after.reason}`;
        } catch (error) {
          outcome = (error as { code?: string }).code ?? String(error);
        }
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    } finally {
      writeFileSync(stop, '');
    }
    const attack = (await attacker.done) as { tries: number; wins: Record<string, number>; errors: Record<string, number> };
    const watched = (await watcher.done) as { added: string[]; removed: string[]; changes: number };
    console.log(`      ${ROUNDS} rounds: ${JSON.stringify(outcomes)}; attacker ${attack.tries} tries, wins ${JSON.stringify(attack.wins)}; ${watched.changes} mount table changes watched`);

    // Each round either worked in the base or was refused before anything ran.
    expect(Object.keys(outcomes)).to.have.members(Object.keys(outcomes).filter((outcome) => outcome === 'connected, then unmounted' || outcome === 'ERR_INSECURE_MOUNT_BASE'));
    expect(outcomes['connected, then unmounted'] ?? 0).to.be.above(0);
    expect(attack.tries).to.be.above(100);
    expect(attack.wins.plant ?? 0).to.be.above(0);
    // Root's directory in the sticky base is never renamed away by the attacker.
    expect(attack.wins).to.not.have.property('rename-away');
    expect({ added: watched.added, removed: watched.removed }).to.deep.equal({ added: [], removed: [] });
    expect(mountTable(host.root)).to.deep.equal(tableBefore);
    expect(readFileSync(join(victim, 'keep'), 'utf8')).to.equal('operator data');
    // Every mount the client was asked for was exactly <base>/<md5>, and each landed there.
    expect(host.invocations().map((argv) => argv.at(-1))).to.satisfy((points: string[]) => points.every((point) => point === mountPath));
  });

  describe('a re-pointed base', () => {
    it('a base that is a symbolic link is refused before anything runs', async () => {
      const link = join(host.root, 'base-link');
      symlinkSync(host.mountBase, link);
      const driver = makeDriver(link);
      await expect(driver.connectVolume(ci('registry/linked-base'), GUEST)).to.be.rejectedWith(InsecureMountBaseError, /is a symbolic link/);
      expect(runner.commands).to.deep.equal([]);
      expect(mountTable(host.root)).to.deep.equal(tableBefore);
    });

    it('a base made a link after a connect: the disconnect is refused and unmounts nothing (an unrelated tmpfs where the link leads)', async () => {
      const real = join(host.root, 'real', 'mnt');
      mkdirSync(real, { recursive: true });
      const driver = makeDriver(real);
      const volume = ci('registry/relinked');
      await driver.connectVolume(volume, GUEST);
      const mountPath = driver.getMountPath(volume);
      const mounted = mountTable(host.root);

      // Root's base moved away and replaced by a link to a place holding a tmpfs at <md5>.
      renameSync(real, `${real}.moved`);
      const decoy = join(host.root, 'decoy');
      unrelatedTmpfs(join(decoy, mountPath.slice(real.length + 1)));
      symlinkSync(decoy, real);
      const withDecoy = mountTable(host.root);

      await expect(driver.disconnectVolume(volume, GUEST)).to.be.rejectedWith(InsecureMountBaseError, /is a symbolic link/);
      expect(runner.commands.map((command) => command.file)).to.deep.equal(['mount.quobyte']);
      expect(mountTable(host.root)).to.deep.equal(withDecoy);
      expect(difference(withDecoy, mounted).removed).to.have.length(1); // only the share's own path moved
    });

    it('a base whose parent was swapped after a connect: the disconnect unmounts nothing (an unrelated tmpfs at the new <base>/<md5>)', async () => {
      const parent = join(host.root, 'parent');
      const base = join(parent, 'mnt');
      mkdirSync(base, { recursive: true });
      const driver = makeDriver(base);
      const volume = ci('registry/reparented');
      await driver.connectVolume(volume, GUEST);
      const mountPath = driver.getMountPath(volume);

      renameSync(parent, `${parent}.old`);
      unrelatedTmpfs(mountPath);
      const swapped = mountTable(host.root);

      expect(await driver.disconnectVolume(volume, GUEST)).to.deep.equal({ unmounted: false, reason: 'not-mounted' });
      expect(runner.commands.map((command) => command.file)).to.deep.equal(['mount.quobyte']);
      expect(mountTable(host.root)).to.deep.equal(swapped);
      expect(readFileSync(join(mountPath, 'keep'), 'utf8')).to.equal('operator data');
      // And a new connect refuses to mount over it.
      await expect(driver.connectVolume(volume, GUEST)).to.be.rejectedWith(/holds another file system \(tmpfs/);
      expect(mountTable(host.root)).to.deep.equal(swapped);
    });

    it('a parent that is a link re-pointed after a connect: the disconnect unmounts nothing where it now leads', async () => {
      const first = join(host.root, 'first');
      const second = join(host.root, 'second');
      mkdirSync(join(first, 'mnt'), { recursive: true });
      const parentLink = join(host.root, 'current');
      symlinkSync(first, parentLink);
      const driver = makeDriver(join(parentLink, 'mnt'));
      const volume = ci('registry/relinked-parent');
      await driver.connectVolume(volume, GUEST);
      const name = driver.getMountPath(volume).slice(join(parentLink, 'mnt').length + 1);
      expect(mountTable(host.root)).to.include(`${join(first, 'mnt', name)} fuse.quobyte quobyte@registry/relinked-parent`);

      unrelatedTmpfs(join(second, 'mnt', name));
      const staged = `${parentLink}.new`;
      symlinkSync(second, staged);
      renameSync(staged, parentLink); // atomic re-point, as `ln -sfn` does
      const swapped = mountTable(host.root);

      expect(await driver.disconnectVolume(volume, GUEST)).to.deep.equal({ unmounted: false, reason: 'not-mounted' });
      expect(runner.commands.map((command) => command.file)).to.deep.equal(['mount.quobyte']);
      expect(mountTable(host.root)).to.deep.equal(swapped);
      expect(lstatSync(join(second, 'mnt', name, 'keep')).isFile()).to.equal(true);
    });
  });

  describe('a base others may write', () => {
    for (const [what, mode] of [['by everyone, without the sticky bit (0777)', 0o777], ['by its group (0775)', 0o775]] as const) {
      it(`writable ${what}: InsecureMountBaseError before anything runs, connect and disconnect`, async () => {
        chmodSync(host.mountBase, mode);
        const driver = makeDriver();
        const volume = ci('registry/writable-base');
        await expect(driver.connectVolume(volume, GUEST)).to.be.rejectedWith(InsecureMountBaseError, /writable by group or others/);
        await expect(driver.disconnectVolume(volume, GUEST)).to.be.rejectedWith(InsecureMountBaseError);
        expect(runner.commands).to.deep.equal([]);
        expect(existsSync(driver.getMountPath(volume))).to.equal(false);
        expect(mountTable(host.root)).to.deep.equal(tableBefore);
      });
    }

    it('owned by another user: refused the same way', async () => {
      spawnSync('chown', [`${AGENT}:${AGENT}`, host.mountBase]);
      const driver = makeDriver();
      await expect(driver.connectVolume(ci('registry/foreign-owner'), GUEST)).to.be.rejectedWith(InsecureMountBaseError, /owned by uid 65534/);
      expect(runner.commands).to.deep.equal([]);
      expect(mountTable(host.root)).to.deep.equal(tableBefore);
    });
  });
});
