import { chmod, mkdir, mkdtemp, readFile, readdir, realpath, rm, stat as fsStat, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { NodeFileSystemProbe } from '../../lib/filesystem/node-file-system-probe.js';
import { InProcessGuard } from '../../lib/filesystem/in-process-guard.js';
import { hangingNode } from '../support/hanging-node.js';

use(chaiAsPromised);

async function rejection(promise: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  const error: unknown = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(Error);
  return error as NodeJS.ErrnoException;
}

describe('NodeFileSystemProbe', () => {
  let tmp: string;
  const probe = new NodeFileSystemProbe();

  beforeEach(async () => {
    tmp = await realpath(await mkdtemp(join(tmpdir(), 'node-file-system-probe-spec-')));
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  describe('stat()', () => {
    it('describes a regular file', async () => {
      const file = join(tmp, 'image.raw');
      await writeFile(file, 'hello');
      await chmod(file, 0o640);
      const result = await probe.stat(file);
      expect(result).to.include({ size: 5, isFile: true, isDirectory: false, isSymbolicLink: false });
      expect(result.mode & 0o7777).to.equal(0o640);
      expect(result.uid).to.equal(process.getuid?.());
      expect(result.gid).to.equal(process.getgid?.());
      const real = await fsStat(file);
      expect(result.dev).to.equal(real.dev);
      expect(result.ino).to.equal(real.ino);
    });

    it('describes a directory', async () => {
      const result = await probe.stat(tmp);
      expect(result).to.include({ isFile: false, isDirectory: true, isSymbolicLink: false });
      expect(result.dev).to.be.a('number');
      expect(result.ino).to.be.a('number').and.greaterThan(0);
    });

    it('follows a symbolic link', async () => {
      const file = join(tmp, 'target');
      await writeFile(file, 'abc');
      await symlink(file, join(tmp, 'link'));
      const result = await probe.stat(join(tmp, 'link'));
      expect(result).to.include({ size: 3, isFile: true, isSymbolicLink: false });
      expect(result.ino).to.equal((await fsStat(file)).ino);
    });

    it('rejects with code ENOENT for a missing path', async () => {
      const error = await rejection(probe.stat(join(tmp, 'missing')));
      expect(error.code).to.equal('ENOENT');
    });

    it('rejects with code ENOENT for a dangling symbolic link', async () => {
      await symlink(join(tmp, 'nowhere'), join(tmp, 'dangling'));
      expect((await rejection(probe.stat(join(tmp, 'dangling')))).code).to.equal('ENOENT');
    });

    it('rejects with code ENOTDIR for a path below a regular file', async () => {
      await writeFile(join(tmp, 'file'), '');
      expect((await rejection(probe.stat(join(tmp, 'file', 'child')))).code).to.equal('ENOTDIR');
    });

    describe('with timeoutMs', () => {
      it('resolves normally on a normal path', async () => {
        await writeFile(join(tmp, 'f'), 'abcd');
        const result = await probe.stat(join(tmp, 'f'), { timeoutMs: 1000 });
        expect(result).to.include({ size: 4, isFile: true });
      });

      it('keeps code ENOENT for a missing path, not ETIMEDOUT', async () => {
        const error = await rejection(probe.stat(join(tmp, 'missing'), { timeoutMs: 1000 }));
        expect(error.code).to.equal('ENOENT');
      });

      it('answers again after an earlier call on the same path settled', async () => {
        const missing = join(tmp, 'later');
        expect((await rejection(probe.stat(missing, { timeoutMs: 1000 }))).code).to.equal('ENOENT');
        await writeFile(missing, 'x');
        expect((await probe.stat(missing, { timeoutMs: 1000 })).size).to.equal(1);
        expect((await probe.stat(missing, { timeoutMs: 1000 })).size).to.equal(1);
      });

      it('answers concurrent calls on different paths', async () => {
        await writeFile(join(tmp, 'a'), 'a');
        await writeFile(join(tmp, 'b'), 'bb');
        const [a, b] = await Promise.all([probe.stat(join(tmp, 'a'), { timeoutMs: 1000 }), probe.stat(join(tmp, 'b'), { timeoutMs: 1000 })]);
        expect([a.size, b.size]).to.deep.equal([1, 2]);
      });

      it('answers a concurrent stat and lstat of the same path', async () => {
        const [s, l] = await Promise.all([probe.stat(tmp, { timeoutMs: 1000 }), probe.lstat(tmp, { timeoutMs: 1000 })]);
        expect(s.ino).to.equal(l.ino);
      });

      // Regression: a second call on a path while the first was in flight used to reject at once
      // with ETIMEDOUT, even on a healthy path, so a healthy mount could be judged unresponsive.
      it('answers two concurrent calls on the same healthy path', async () => {
        const results = await Promise.allSettled([probe.stat(tmp, { timeoutMs: 1000 }), probe.stat(tmp, { timeoutMs: 1000 })]);
        expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled']);
      });

      it('gives concurrent calls on the same missing path the same ENOENT, not ETIMEDOUT', async () => {
        const missing = join(tmp, 'missing');
        const results = await Promise.allSettled([probe.stat(missing, { timeoutMs: 1000 }), probe.stat(missing, { timeoutMs: 1000 })]);
        expect(results.map((r) => (r.status === 'rejected' ? (r.reason as NodeJS.ErrnoException).code : 'fulfilled'))).to.deep.equal(['ENOENT', 'ENOENT']);
      });

      // The case the guard exists for, a stat that hangs on a stopped FUSE client, cannot be
      // made here without a real hung mount; spec/integration covers it.
    });
  });

  describe('lstat()', () => {
    it('describes a symbolic link itself, not its target', async () => {
      await writeFile(join(tmp, 'target'), 'abcdef');
      await symlink(join(tmp, 'target'), join(tmp, 'link'));
      const result = await probe.lstat(join(tmp, 'link'));
      expect(result).to.include({ isSymbolicLink: true, isFile: false, isDirectory: false });
      expect(result.ino).to.not.equal((await fsStat(join(tmp, 'target'))).ino);
    });

    it('describes a dangling symbolic link', async () => {
      await symlink(join(tmp, 'nowhere'), join(tmp, 'dangling'));
      expect(await probe.lstat(join(tmp, 'dangling'))).to.include({ isSymbolicLink: true });
    });

    it('describes a regular file like stat() does', async () => {
      await writeFile(join(tmp, 'f'), '12345678');
      const [l, s] = await Promise.all([probe.lstat(join(tmp, 'f')), probe.stat(join(tmp, 'f'))]);
      expect(l).to.deep.equal(s);
      expect(l).to.include({ size: 8, isFile: true, isSymbolicLink: false });
    });

    it('rejects with code ENOENT for a missing path, with or without timeoutMs', async () => {
      expect((await rejection(probe.lstat(join(tmp, 'missing')))).code).to.equal('ENOENT');
      expect((await rejection(probe.lstat(join(tmp, 'missing'), { timeoutMs: 1000 }))).code).to.equal('ENOENT');
    });

    it('resolves normally with timeoutMs', async () => {
      await symlink('/', join(tmp, 'root-link'));
      expect(await probe.lstat(join(tmp, 'root-link'), { timeoutMs: 1000 })).to.include({ isSymbolicLink: true });
    });
  });

  describe('ensureDirectory()', () => {
    it('creates missing parents', async () => {
      const nested = join(tmp, 'a', 'b', 'c');
      await probe.ensureDirectory(nested);
      expect((await fsStat(nested)).isDirectory()).to.equal(true);
    });

    it('is idempotent and keeps what the directory holds', async () => {
      const dir = join(tmp, 'mnt');
      await probe.ensureDirectory(dir);
      await writeFile(join(dir, 'keep'), 'x');
      await probe.ensureDirectory(dir);
      await probe.ensureDirectory(dir);
      expect(await readdir(dir)).to.deep.equal(['keep']);
    });

    it('rejects with code EEXIST when a file is in the way', async () => {
      await writeFile(join(tmp, 'file'), '');
      expect((await rejection(probe.ensureDirectory(join(tmp, 'file')))).code).to.equal('EEXIST');
    });

    it('rejects with code ENOTDIR when a parent is a file', async () => {
      await writeFile(join(tmp, 'file'), '');
      expect((await rejection(probe.ensureDirectory(join(tmp, 'file', 'sub')))).code).to.equal('ENOTDIR');
    });
  });

  describe('removeDirectory()', () => {
    it('removes an empty directory', async () => {
      await mkdir(join(tmp, 'empty'));
      await probe.removeDirectory(join(tmp, 'empty'));
      expect(await readdir(tmp)).to.deep.equal([]);
    });

    it('rejects with code ENOTEMPTY and removes nothing when the directory holds something', async () => {
      await mkdir(join(tmp, 'full'));
      await writeFile(join(tmp, 'full', 'volume-1'), 'data');
      expect((await rejection(probe.removeDirectory(join(tmp, 'full')))).code).to.equal('ENOTEMPTY');
      expect(await readFile(join(tmp, 'full', 'volume-1'), 'utf8')).to.equal('data');
    });

    it('rejects with code ENOENT for a missing directory', async () => {
      expect((await rejection(probe.removeDirectory(join(tmp, 'missing')))).code).to.equal('ENOENT');
    });

    it('rejects with code ENOTDIR for a regular file and leaves it', async () => {
      await writeFile(join(tmp, 'file'), 'x');
      expect((await rejection(probe.removeDirectory(join(tmp, 'file')))).code).to.equal('ENOTDIR');
      expect(await readdir(tmp)).to.deep.equal(['file']);
    });
  });

  describe('pathExists()', () => {
    it('is true for a file and a directory', async () => {
      await writeFile(join(tmp, 'file'), '');
      expect(await probe.pathExists(join(tmp, 'file'))).to.equal(true);
      expect(await probe.pathExists(tmp)).to.equal(true);
    });

    it('is true for a dangling symbolic link', async () => {
      await symlink(join(tmp, 'nowhere'), join(tmp, 'dangling'));
      expect(await probe.pathExists(join(tmp, 'dangling'))).to.equal(true);
    });

    it('is false for a missing path', async () => {
      expect(await probe.pathExists(join(tmp, 'missing'))).to.equal(false);
      expect(await probe.pathExists(join(tmp, 'missing', 'deeper'))).to.equal(false);
    });

    it('rejects with the errno code for a failure other than absence', async () => {
      await symlink(join(tmp, 'loop'), join(tmp, 'loop'));
      expect(await probe.pathExists(join(tmp, 'loop'))).to.equal(true);
      expect((await rejection(probe.pathExists(join(tmp, 'loop', 'child')))).code).to.equal('ELOOP');
    });
  });

  describe('isWritable()', () => {
    it('is true for a directory the user may write to', async () => {
      expect(await probe.isWritable(tmp)).to.equal(true);
    });

    it('is false for a missing path', async () => {
      expect(await probe.isWritable(join(tmp, 'missing'))).to.equal(false);
    });

    it('is false for a file nobody may execute (search permission is required too)', async () => {
      await writeFile(join(tmp, 'file'), '');
      await chmod(join(tmp, 'file'), 0o666);
      expect(await probe.isWritable(join(tmp, 'file'))).to.equal(false);
    });
  });

  describe('readInitProcessName()', () => {
    it('returns the name of PID 1 on this machine', async () => {
      const name = await probe.readInitProcessName();
      expect(name).to.be.a('string').and.not.equal('');
      expect(name).to.equal(readFileSync('/proc/1/comm', 'utf8').trim());
    });

    it('reads an injected initCommPath, without the trailing newline', async () => {
      await writeFile(join(tmp, 'comm'), 'systemd\n');
      expect(await new NodeFileSystemProbe({ initCommPath: join(tmp, 'comm') }).readInitProcessName()).to.equal('systemd');
    });

    it('returns undefined when the file cannot be read', async () => {
      expect(await new NodeFileSystemProbe({ initCommPath: join(tmp, 'missing') }).readInitProcessName()).to.equal(undefined);
    });
  });

  describe('realPath()', () => {
    it('resolves symbolic links and relative parts', async () => {
      await mkdir(join(tmp, 'real'));
      await symlink(join(tmp, 'real'), join(tmp, 'alias'));
      expect(await probe.realPath(`${tmp}/alias/../alias/.`)).to.equal(join(tmp, 'real'));
    });

    it('returns a canonical path unchanged', async () => {
      expect(await probe.realPath(tmp)).to.equal(tmp);
    });

    it('rejects with code ENOENT for a missing path', async () => {
      expect((await rejection(probe.realPath(join(tmp, 'missing')))).code).to.equal('ENOENT');
    });
  });

  // readBytes opens with O_NONBLOCK, so a FIFO no longer blocks it; the children here run a Node
  // in which a `*.hang` FIFO is opened blocking, as a hung mount's file would be.
  describe('a call that hangs (a FIFO nobody writes to, opened blocking, stands in for a hung mount)', () => {
    const fifos: string[] = [];
    let contained: NodeFileSystemProbe;

    function fifo(): string {
      const path = join(tmp, `fifo-${fifos.length}.hang`);
      execFileSync('mkfifo', [path]);
      fifos.push(path);
      return path;
    }

    /** Lets every open still waiting on a FIFO return (a writer arrives). */
    function release(): void {
      for (const path of fifos.splice(0)) {
        try {
          closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // nobody waiting
        }
      }
    }

    /** How long a read of a small local file takes, or Infinity past `limitMs`. */
    async function localReadMs(limitMs: number): Promise<number> {
      const file = join(tmp, 'local');
      // Synchronous: the promise API needs the very threads this measures.
      writeFileSync(file, 'local');
      const started = performance.now();
      const read = readFile(file, 'utf8').then(() => performance.now() - started);
      return Promise.race([read, new Promise<number>((resolve) => setTimeout(() => { resolve(Infinity); }, limitMs))]);
    }

    beforeEach(() => {
      contained = new NodeFileSystemProbe({ probeChildren: { execPath: hangingNode(tmp) } });
    });

    afterEach(() => {
      contained.close();
      release();
    });

    it('times out, kills the child that made it, and asks again in a new child on the next call', async function () {
      this.timeout(30_000);
      const path = fifo();
      await expect(contained.readBytes(path, 0, 1, { timeoutMs: 300 })).to.be.rejected.and.eventually.include({ code: 'ETIMEDOUT', message: `ETIMEDOUT: no answer within 300 ms, read '${path}'` });
      expect(contained.probeChildPids).to.deep.equal([]);
      await expect(contained.readBytes(path, 0, 1, { timeoutMs: 300 })).to.be.rejected.and.eventually.have.property('code', 'ETIMEDOUT');
      expect(await contained.stat(tmp, { timeoutMs: 5_000 })).to.include({ isDirectory: true });
      expect(contained.probeChildPids).to.have.length(1);
    });

    it('leaves no thread of this process blocked: after 8 timed-out calls a local read answers within 500 ms', async function () {
      this.timeout(60_000);
      const calls = Array.from({ length: 8 }, () => contained.readBytes(fifo(), 0, 1, { timeoutMs: 300 }));
      const codes = await Promise.all(calls.map((call) => call.then(() => 'fulfilled', (e: unknown) => (e as NodeJS.ErrnoException).code)));
      expect(codes).to.deep.equal(Array.from({ length: 8 }, () => 'ETIMEDOUT'));
      expect(await localReadMs(2_000)).to.be.below(500);
    });

    it('shares one child among concurrent calls on the same path, unless fresh', async function () {
      this.timeout(30_000);
      const path = fifo();
      const calls = [contained.readBytes(path, 0, 1, { timeoutMs: 20_000 }), contained.readBytes(path, 0, 1, { timeoutMs: 20_000 })];
      const fresh = contained.readBytes(path, 0, 1, { timeoutMs: 20_000, fresh: true });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(contained.probeChildPids).to.have.length(2);
      contained.close();
      for (const call of [...calls, fresh]) await expect(call).to.be.rejected.and.eventually.have.property('code', 'ECANCELED');
    });

    // In this process nothing local blocks a non-blocking open; the guard is shown with a call
    // that never settles, and the threads a hung FUSE mount keeps are shown for real in
    // spec/integration/contained-probe.integration.spec.ts.
    describe('with contained: false (in this process): InProcessGuard', () => {
      it('times out, and a second caller is told at once rather than starting another call', async () => {
        const guard = new InProcessGuard();
        let calls = 0;
        const never = (): Promise<never> => { calls += 1; return new Promise(() => undefined); };
        const started = performance.now();
        await expect(guard.run('read:0:1:/x', '/x', { timeoutMs: 200 }, never)).to.be.rejected.and.eventually.have.property('code', 'ETIMEDOUT');
        expect(performance.now() - started).to.be.within(150, 2_000);
        const again = performance.now();
        await expect(guard.run('read:0:1:/x', '/x', { timeoutMs: 200 }, never)).to.be.rejected.and.eventually.include({ code: 'ETIMEDOUT', message: "ETIMEDOUT: no answer within 200 ms, read '/x'" });
        expect(performance.now() - again).to.be.below(100);
        expect(calls).to.equal(1);
      });
    });
  });

  describe('fuseWaiting()', () => {
    it('reads <connections>/<minor>/waiting', async () => {
      await mkdir(join(tmp, '41'));
      await writeFile(join(tmp, '41', 'waiting'), '3\n');
      expect(await new NodeFileSystemProbe({ fuseConnectionsPath: tmp }).fuseWaiting(41)).to.equal(3);
    });

    it('is undefined when there is no such connection', async () => {
      expect(await new NodeFileSystemProbe({ fuseConnectionsPath: tmp }).fuseWaiting(41)).to.equal(undefined);
    });

    it('rejects with the errno code for a failure other than a missing connection', async () => {
      await mkdir(join(tmp, '41', 'waiting'), { recursive: true });
      await expect(new NodeFileSystemProbe({ fuseConnectionsPath: tmp }).fuseWaiting(41)).to.be.rejected.and.eventually.have.property('code', 'EISDIR');
    });
  });

  describe('in a probe child', () => {
    it('resolves a relative path against this process\'s directory, not the child\'s', async () => {
      const cwd = process.cwd();
      process.chdir(tmp);
      try {
        await writeFile(join(tmp, 'relative'), 'abc');
        expect(await probe.stat('relative', { timeoutMs: 5_000 })).to.include({ size: 3 });
        expect(await probe.realPath('relative')).to.equal(join(tmp, 'relative'));
      } finally {
        process.chdir(cwd);
      }
    });

    it('starts again after close()', async () => {
      const own = new NodeFileSystemProbe();
      expect(await own.stat(tmp)).to.include({ isDirectory: true });
      const [pid] = own.probeChildPids;
      own.close();
      expect(own.probeChildPids).to.deep.equal([]);
      expect(await own.stat(tmp)).to.include({ isDirectory: true });
      expect(own.probeChildPids).to.have.length(1).and.not.include(pid);
      own.close();
    });
  });

  describe('readBytes()', () => {
    const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);

    beforeEach(async () => {
      await writeFile(join(tmp, 'image'), bytes);
    });

    it('reads length bytes at position', async () => {
      expect([...(await probe.readBytes(join(tmp, 'image'), 10, 5))]).to.deep.equal([10, 11, 12, 13, 14]);
    });

    it('reads from the start', async () => {
      expect([...(await probe.readBytes(join(tmp, 'image'), 0, 4))]).to.deep.equal([0, 1, 2, 3]);
    });

    it('returns fewer bytes at the end of the file', async () => {
      expect([...(await probe.readBytes(join(tmp, 'image'), 97, 32))]).to.deep.equal([97, 98, 99]);
    });

    it('returns no bytes past the end of the file', async () => {
      expect(await probe.readBytes(join(tmp, 'image'), 1000, 32)).to.have.length(0);
    });

    it('resolves normally with timeoutMs', async () => {
      expect([...(await probe.readBytes(join(tmp, 'image'), 50, 2, { timeoutMs: 1000 }))]).to.deep.equal([50, 51]);
    });

    it('rejects with code ENOENT for a missing file', async () => {
      expect((await rejection(probe.readBytes(join(tmp, 'missing'), 0, 4, { timeoutMs: 1000 }))).code).to.equal('ENOENT');
    });

    it('rejects with code EISDIR for a directory', async () => {
      expect((await rejection(probe.readBytes(tmp, 0, 4))).code).to.equal('EISDIR');
    });

    // O_RDONLY | O_NOFOLLOW | O_NONBLOCK: an image swapped for a link or a FIFO after the
    // gate's lstat is never followed, and never blocks the read.
    for (const [how, make] of [['in a probe child', () => probe], ['in this process (contained: false)', () => new NodeFileSystemProbe({ contained: false })]] as const) {
      describe(how, () => {
        it('never follows a final link: ELOOP, even to a valid file', async () => {
          await symlink(join(tmp, 'image'), join(tmp, 'link'));
          expect((await rejection(make().readBytes(join(tmp, 'link'), 0, 4, { timeoutMs: 5_000 }))).code).to.equal('ELOOP');
        });

        it('still follows links above the final component (the mount path may sit under one)', async () => {
          await symlink(tmp, join(tmp, 'dir-link'));
          expect([...(await make().readBytes(join(tmp, 'dir-link', 'image'), 0, 2, { timeoutMs: 5_000 }))]).to.deep.equal([0, 1]);
        });

        it('answers at once for a FIFO nobody writes to, rather than blocking', async () => {
          const path = join(tmp, 'fifo');
          execFileSync('mkfifo', [path]);
          const started = performance.now();
          // The open returns at once; a FIFO has no positions to read at.
          expect((await rejection(make().readBytes(path, 0, 4, { timeoutMs: 5_000 }))).code).to.equal('ESPIPE');
          expect(performance.now() - started).to.be.below(2_000);
        });
      });
    }

    it('answers concurrent reads of the same file', async () => {
      await writeFile(join(tmp, 'img'), Uint8Array.from([1, 2, 3, 4]));
      const [a, b] = await Promise.all([probe.readBytes(join(tmp, 'img'), 0, 2, { timeoutMs: 1000 }), probe.readBytes(join(tmp, 'img'), 0, 2, { timeoutMs: 1000 })]);
      expect([[...a], [...b]]).to.deep.equal([[1, 2], [1, 2]]);
    });

    // Regression: calls in flight are shared by operation and path; a read's key must hold its
    // range too, or a second concurrent read of another range got the first caller's bytes.
    it('answers concurrent reads of different ranges of the same file with their own bytes', async () => {
      await writeFile(join(tmp, 'img'), Uint8Array.from([0, 1, 2, 3, 4, 5]));
      const [head, tail] = await Promise.all([
        probe.readBytes(join(tmp, 'img'), 0, 2, { timeoutMs: 1000 }),
        probe.readBytes(join(tmp, 'img'), 2, 2, { timeoutMs: 1000 }),
      ]);
      expect([...head]).to.deep.equal([0, 1]);
      expect([...tail]).to.deep.equal([2, 3]);
    });
  });

  describe('listMounts()', () => {
    it('reads and parses an injected mountInfoPath', async () => {
      const mountInfo = join(tmp, 'mountinfo');
      await writeFile(
        mountInfo,
        [
          '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
          '1025 27 0:52 / /var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6 rw,nosuid,nodev,relatime shared:300 - fuse.quobyte quobyte@192.168.1.1/volume-00001 rw,user_id=0,group_id=0',
          '',
        ].join('\n'),
      );
      const entries = await new NodeFileSystemProbe({ mountInfoPath: mountInfo }).listMounts();
      expect(entries).to.deep.equal([
        { mountPoint: '/', source: '/dev/vda', fsType: 'ext4', options: ['rw', 'relatime', 'rw'], mountId: 27, device: '254:0' },
        {
          mountPoint: '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6',
          source: 'quobyte@192.168.1.1/volume-00001',
          fsType: 'fuse.quobyte',
          options: ['rw', 'nosuid', 'nodev', 'relatime', 'rw', 'user_id=0', 'group_id=0'],
          mountId: 1025,
          device: '0:52',
        },
      ]);
    });

    it('reads the file afresh on each call', async () => {
      const mountInfo = join(tmp, 'mountinfo');
      await writeFile(mountInfo, '27 1 254:0 / / rw - ext4 /dev/vda rw\n');
      const fileProbe = new NodeFileSystemProbe({ mountInfoPath: mountInfo });
      expect(await fileProbe.listMounts()).to.have.length(1);
      await writeFile(mountInfo, '27 1 254:0 / / rw - ext4 /dev/vda rw\n28 27 0:40 / /mnt rw - tmpfs tmpfs rw\n');
      expect((await fileProbe.listMounts()).map((e) => e.mountPoint)).to.deep.equal(['/', '/mnt']);
    });

    it('returns an empty list for an empty file', async () => {
      await writeFile(join(tmp, 'mountinfo'), '');
      expect(await new NodeFileSystemProbe({ mountInfoPath: join(tmp, 'mountinfo') }).listMounts()).to.deep.equal([]);
    });

    it('rejects (not throws) with code ENOENT when the file is missing', async () => {
      const pending = new NodeFileSystemProbe({ mountInfoPath: join(tmp, 'missing') }).listMounts();
      expect(pending).to.be.instanceOf(Promise);
      expect((await rejection(pending)).code).to.equal('ENOENT');
    });

    it('reads /proc/self/mountinfo by default, which has an entry for /', async () => {
      const entries = await probe.listMounts();
      expect(entries.some((e) => e.mountPoint === '/')).to.equal(true);
    });
  });

  describe('abortFuseConnection()', () => {
    it('writes 1 to <connections>/<minor>/abort and reports aborted', async () => {
      await mkdir(join(tmp, '57'));
      await writeFile(join(tmp, '57', 'abort'), '');
      await mkdir(join(tmp, '58'));
      await writeFile(join(tmp, '58', 'abort'), '');
      const result = await new NodeFileSystemProbe({ fuseConnectionsPath: tmp }).abortFuseConnection(57);
      expect(result).to.equal('aborted');
      expect(await readFile(join(tmp, '57', 'abort'), 'utf8')).to.equal('1');
      expect(await readFile(join(tmp, '58', 'abort'), 'utf8')).to.equal('');
    });

    it('reports no-connection when fusectl lists other connections only', async () => {
      await mkdir(join(tmp, '58'));
      await writeFile(join(tmp, '58', 'abort'), '');
      expect(await new NodeFileSystemProbe({ fuseConnectionsPath: tmp }).abortFuseConnection(57)).to.equal('no-connection');
      expect(await readdir(tmp)).to.deep.equal(['58']);
    });

    it('reports no-fusectl when the connections directory is empty (fusectl not mounted)', async () => {
      expect(await new NodeFileSystemProbe({ fuseConnectionsPath: tmp }).abortFuseConnection(57)).to.equal('no-fusectl');
      expect(await readdir(tmp)).to.deep.equal([]);
    });

    it('reports no-fusectl when the connections directory does not exist', async () => {
      expect(await new NodeFileSystemProbe({ fuseConnectionsPath: join(tmp, 'missing') }).abortFuseConnection(57)).to.equal('no-fusectl');
    });

    it('rejects with the errno code for a failure other than a missing connection', async () => {
      await mkdir(join(tmp, '57', 'abort'), { recursive: true });
      expect((await rejection(new NodeFileSystemProbe({ fuseConnectionsPath: tmp }).abortFuseConnection(57))).code).to.equal('EISDIR');
    });
  });
});
