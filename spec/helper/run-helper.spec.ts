import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { mountDirectoryName } from '../../lib/drivers/quobyte-export.js';
import { HELPER_EXIT } from '../../lib/drivers/helper-commands.js';
import { parseMountInfo } from '../../lib/filesystem/parse-mount-info.js';
import { runHelper } from '../../lib/helper/run-helper.js';
import { FIXTURE_BIN } from '../integration/support/real-host.js';
import { requireRoot } from '../support/require-root.js';

const EXPORT = 'reg:7861/vol';
const MD5 = mountDirectoryName(EXPORT);

describe('libvirt-volume-helper', () => {
  let root: string;
  let base: string;
  let config: string;
  let state: string;
  let victim: string;
  let lines: string[];

  beforeEach(function () {
    requireRoot(this, 'the helper only trusts a root-owned configuration');
    root = mkdtempSync(join(tmpdir(), 'lvd-helper-'));
    base = join(root, 'mnt');
    state = join(root, 'state');
    victim = join(root, 'victim');
    for (const dir of [base, state, victim]) mkdirSync(dir, { mode: 0o755 });
    config = join(root, 'helper.json');
    writeConfig({ mountPointBase: base, systemd: false });
    lines = [];
  });
  afterEach(() => {
    if (root === '') return;
    for (const entry of parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).reverse()) {
      if (entry.mountPoint.startsWith(`${root}/`)) spawnSync('umount', ['-l', entry.mountPoint]);
    }
    rmSync(root, { recursive: true, force: true });
    root = '';
  });

  function writeConfig(content: unknown, mode = 0o644): void {
    rmSync(config, { force: true });
    writeFileSync(config, typeof content === 'string' ? content : JSON.stringify(content), { mode });
    chmodSync(config, mode);
  }

  const helper = (...argv: string[]): Promise<number> =>
    runHelper(['--config', config, ...argv], {
      env: { PATH: `${FIXTURE_BIN}:/usr/sbin:/usr/bin:/sbin:/bin`, QUOBYTE_STANDIN_STATE: state, QUOBYTE_STANDIN_ROOT: join(root, 'backing') },
      report: (line) => lines.push(line),
    });
  /** argv of each stand-in client run so far. */
  const invocations = (): string[][] =>
    existsSync(join(state, 'invocations.log')) ? readFileSync(join(state, 'invocations.log'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as string[]).slice(1)) : [];
  const mountsUnderRoot = (): string[] => parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((e) => e.mountPoint.startsWith(`${root}/`)).map((e) => `${e.fsType} ${e.mountPoint}`);

  describe('usage', () => {
    for (const argv of [[], ['mount'], ['frob', EXPORT], ['mount', EXPORT, '--lazy'], ['umount', EXPORT, '--force'], ['abort', EXPORT, 'x'], ['umount', EXPORT, '--lazy', 'x']]) {
      it(`exits 2 for ${JSON.stringify(argv)} and runs nothing`, async () => {
        expect(await helper(...argv)).to.equal(HELPER_EXIT.usage);
        expect(lines.join('\n')).to.match(/usage: libvirt-volume-helper/);
        expect(invocations()).to.deep.equal([]);
      });
    }

    it('exits 2 for a relative --config, and a --config after the verb', async () => {
      expect(await runHelper(['--config', 'helper.json', 'mount', EXPORT], { report: () => undefined })).to.equal(HELPER_EXIT.usage);
      expect(await runHelper(['mount', EXPORT, '--config', config], { report: () => undefined })).to.equal(HELPER_EXIT.usage);
    });
  });

  describe('takes an export, never a path', () => {
    for (const given of ['/etc', '/etc/passwd', `/tmp/x/mnt/${MD5}`, '../../etc', 'reg/../../etc', 'reg/v/../..', '-o/x', '--lazy', 'reg/v w', 'reg/\u0000', 'quobyte://-o/x', `reg/\uD800`]) {
      for (const verb of ['mount', 'umount', 'abort']) {
        it(`${verb} ${JSON.stringify(given)}: exits 2, creates and runs nothing`, async () => {
          expect(await helper(verb, given)).to.equal(HELPER_EXIT.usage);
          expect(lines.join('\n')).to.match(/refused: Invalid connection info: data.export/);
          expect(readdirSync(base)).to.deep.equal([]);
          expect(invocations()).to.deep.equal([]);
        });
      }
    }
  });

  describe('refuses a configuration it cannot trust (exit 3)', () => {
    const cases: [string, () => void, RegExp][] = [
      ['missing', () => { rmSync(config); }, /cannot be opened: ENOENT/],
      ['a symbolic link to a good one', () => { writeFileSync(join(root, 'real.json'), JSON.stringify({ mountPointBase: base })); rmSync(config); symlinkSync(join(root, 'real.json'), config); }, /symbolic link/],
      ['writable by group', () => { chmodSync(config, 0o664); }, /mode 664/],
      ['writable by others', () => { chmodSync(config, 0o646); }, /mode 646/],
      ['owned by another user', () => { chownSync(config, 65534, 65534); }, /uid 65534/],
      ['a directory', () => { rmSync(config); mkdirSync(config); }, /regular file/],
      ['a FIFO (read without blocking)', () => { rmSync(config); spawnSync('mkfifo', ['-m', '644', config]); }, /regular file/],
      ['not JSON', () => { writeConfig('{'); }, /not JSON/],
      ['with an unknown key', () => { writeConfig({ mountPointBase: base, mountCommand: '/bin/sh' }); }, /unknown keys: mountCommand/],
      ['with a relative base', () => { writeConfig({ mountPointBase: 'mnt' }); }, /mountPointBase must be/],
      ['with a base of /', () => { writeConfig({ mountPointBase: '/' }); }, /mountPointBase must be/],
      ['with a base holding ..', () => { writeConfig({ mountPointBase: `${base}/../victim` }); }, /mountPointBase must be/],
      ['with a relative client configuration', () => { writeConfig({ mountPointBase: base, clientConfigFile: 'q.cfg' }); }, /clientConfigFile must be/],
      ['with systemd not a boolean', () => { writeConfig({ mountPointBase: base, systemd: 'yes' }); }, /systemd must be/],
    ];
    for (const [what, arrange, message] of cases) {
      it(what, async () => {
        arrange();
        expect(await helper('mount', EXPORT)).to.equal(HELPER_EXIT.refused);
        expect(lines.join('\n')).to.match(message);
        expect(readdirSync(base)).to.deep.equal([]);
        expect(invocations()).to.deep.equal([]);
      });
    }
  });

  describe('refuses a base it cannot trust (exit 3)', () => {
    const cases: [string, () => void][] = [
      ['writable by others', () => { chmodSync(base, 0o777); }],
      ['writable by group', () => { chmodSync(base, 0o775); }],
      ['owned by the agent (the layout the old sudoers rule needed)', () => { chownSync(base, 65534, 65534); }],
      ['a symbolic link', () => { rmSync(base, { recursive: true }); symlinkSync(victim, base); }],
      ['under a directory others may write', () => { chmodSync(root, 0o777); }],
      ['missing', () => { rmSync(base, { recursive: true }); }],
    ];
    for (const [what, arrange] of cases) {
      it(what, async () => {
        arrange();
        expect(await helper('mount', EXPORT)).to.equal(HELPER_EXIT.refused);
        expect(lines.join('\n')).to.match(/refused: The mount base/);
        expect(readdirSync(victim)).to.deep.equal([]);
        expect(invocations()).to.deep.equal([]);
      });
    }
  });

  describe('at <base>/<md5>', () => {
    it('refuses a planted link (mount: exit 3), leaves it, and creates and mounts nothing where it points', async () => {
      symlinkSync(victim, join(base, MD5));
      expect(await helper('mount', EXPORT)).to.equal(HELPER_EXIT.refused);
      expect(lines.join('\n')).to.match(/symbolic link; refusing to mount there/);
      expect(lstatSync(join(base, MD5)).isSymbolicLink()).to.be.true;
      expect(readdirSync(victim)).to.deep.equal([]);
      expect(invocations()).to.deep.equal([]);
      expect(mountsUnderRoot()).to.deep.equal([]);
    });

    it('does not unmount through a planted link (umount: exit 4, the mount it points at stays)', async () => {
      expect(spawnSync('mount', ['-t', 'tmpfs', 'victim', victim]).status).to.equal(0);
      symlinkSync(victim, join(base, MD5));
      expect(await helper('umount', EXPORT)).to.equal(HELPER_EXIT.nothingToDo);
      expect(await helper('abort', EXPORT)).to.equal(HELPER_EXIT.nothingToDo);
      expect(mountsUnderRoot()).to.deep.equal([`tmpfs ${victim}`]);
    });

    it('refuses a foreign tmpfs there for each verb (exit 3) and leaves it mounted', async () => {
      mkdirSync(join(base, MD5));
      expect(spawnSync('mount', ['-t', 'tmpfs', 'quobyte@reg:7861/vol', join(base, MD5)]).status).to.equal(0);
      for (const argv of [['mount', EXPORT], ['umount', EXPORT], ['umount', EXPORT, '--lazy'], ['abort', EXPORT]]) {
        expect(await helper(...argv)).to.equal(HELPER_EXIT.refused);
      }
      expect(lines.join('\n')).to.match(/holds another file system \(tmpfs/);
      expect(mountsUnderRoot()).to.deep.equal([`tmpfs ${join(base, MD5)}`]);
      expect(invocations()).to.deep.equal([]);
    });

    it('refuses a file there (exit 3)', async () => {
      writeFileSync(join(base, MD5), '');
      expect(await helper('mount', EXPORT)).to.equal(HELPER_EXIT.refused);
      expect(invocations()).to.deep.equal([]);
    });
  });

  describe('mount', () => {
    it('runs Nova\'s argv on <base>/<md5> with the configured -c, and removes the directory when the client fails (exit 1)', async () => {
      writeConfig({ mountPointBase: base, clientConfigFile: '/etc/quobyte/client.cfg', systemd: false });
      writeFileSync(join(state, 'fail'), 'registry unreachable');
      expect(await helper('mount', `quobyte://${EXPORT}`)).to.equal(HELPER_EXIT.failed);
      expect(invocations()).to.deep.equal([['--disable-xattrs', EXPORT, join(base, MD5), '-c', '/etc/quobyte/client.cfg']]);
      expect(readdirSync(base)).to.deep.equal([]);
    });
  });

  describe('umount and abort with nothing mounted', () => {
    it('exit 4 and remove an empty directory left behind', async () => {
      mkdirSync(join(base, MD5));
      expect(await helper('abort', EXPORT)).to.equal(HELPER_EXIT.nothingToDo);
      expect(await helper('umount', EXPORT, '--lazy')).to.equal(HELPER_EXIT.nothingToDo);
      expect(readdirSync(base)).to.deep.equal([]);
    });
  });
});
