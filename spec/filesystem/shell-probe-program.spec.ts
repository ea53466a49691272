import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, realpath, rm, stat as fsStat, lstat as fsLstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { NodeFileSystemProbe } from '../../lib/filesystem/node-file-system-probe.js';
import { shellCanRun, shellProbeProgram } from '../../lib/filesystem/shell-probe-program.js';

async function failure(promise: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  return promise.then(() => { throw new Error('expected a rejection'); }, (error: unknown) => error as NodeJS.ErrnoException);
}

describe('shell probe children (NodeFileSystemProbe with shellChildren)', () => {
  let tmp: string;
  let probe: NodeFileSystemProbe;

  beforeEach(async () => {
    tmp = await realpath(await mkdtemp(join(tmpdir(), 'shell-probe-spec-')));
    probe = new NodeFileSystemProbe({ shellChildren: true });
  });

  afterEach(async () => {
    probe.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('stat, lstat and realpath answer as Node does, from /bin/sh children', async () => {
    const file = join(tmp, 'image');
    writeFileSync(file, 'hello');
    chmodSync(file, 0o640);
    symlinkSync(file, join(tmp, 'link'));
    const real = await fsStat(file);
    expect(await probe.stat(join(tmp, 'link'), { timeoutMs: 10_000 })).to.deep.equal({ size: 5, mode: real.mode, uid: real.uid, gid: real.gid, dev: real.dev, ino: real.ino, isFile: true, isDirectory: false, isSymbolicLink: false });
    const link = await fsLstat(join(tmp, 'link'));
    expect(await probe.lstat(join(tmp, 'link'), { timeoutMs: 10_000 })).to.include({ isSymbolicLink: true, ino: link.ino, mode: link.mode });
    expect(await probe.stat(tmp, { timeoutMs: 10_000 })).to.include({ isDirectory: true });
    expect(await probe.realPath(join(tmp, 'link'), { timeoutMs: 10_000 })).to.equal(file);
    expect(await probe.realPath(join(tmp, 'a dir with  spaces'), { timeoutMs: 10_000 }).catch((e: unknown) => (e as NodeJS.ErrnoException).code)).to.equal('ENOENT');
    // Only shell children ran: no Node start.
    expect(probe.probeChildPids).to.have.length(1);
  });

  it('reports errno codes from the C-locale messages', async () => {
    writeFileSync(join(tmp, 'file'), '');
    symlinkSync('loop', join(tmp, 'loop'));
    expect((await failure(probe.stat(join(tmp, 'missing'), { timeoutMs: 10_000 }))).code).to.equal('ENOENT');
    expect((await failure(probe.stat(join(tmp, 'file', 'below'), { timeoutMs: 10_000 }))).code).to.equal('ENOTDIR');
    expect((await failure(probe.stat(join(tmp, 'loop'), { timeoutMs: 10_000 }))).code).to.equal('ELOOP');
    expect((await failure(probe.realPath(join(tmp, 'missing'), { timeoutMs: 10_000 }))).code).to.equal('ENOENT');
  });

  it('kills a child stuck past the timeout, and the next call gets a new one', async function () {
    this.timeout(30_000);
    // A `stat` that never answers, first on PATH, stands in for one stuck on a hung mount.
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    // A sleep of its own length, to find it among the host's processes.
    const marker = `sleep 60.${String(process.pid).padStart(7, '0')}`;
    writeFileSync(join(bin, 'stat'), `#!/bin/sh\ncase "$*" in *hang*) exec ${marker} ;; esac\nexec /usr/bin/stat "$@"\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path ?? ''}`;
    let stuck: NodeFileSystemProbe | undefined;
    try {
      stuck = new NodeFileSystemProbe({ shellChildren: true });
      expect(await stuck.stat(tmp, { timeoutMs: 10_000 })).to.include({ isDirectory: true });
      const [first] = stuck.probeChildPids;
      const started = performance.now();
      expect((await failure(stuck.stat(join(tmp, 'hang'), { timeoutMs: 300 }))).code).to.equal('ETIMEDOUT');
      expect(performance.now() - started).to.be.below(5_000);
      expect(await stuck.stat(tmp, { timeoutMs: 10_000 })).to.include({ isDirectory: true });
      expect(stuck.probeChildPids).to.have.length(1).and.not.include(first);
      // The stuck `stat` went with its shell: nothing is left waiting.
      const left = (): boolean => spawnSync('pgrep', ['-f', marker]).status === 0;
      for (let tries = 0; tries < 50 && left(); tries += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(left(), 'a stuck stat was left behind').to.equal(false);
    } finally {
      stuck?.close();
      process.env.PATH = path;
    }
  });

  it('sends what a shell line cannot carry, and every other call, to a Node child', async () => {
    const odd = join(tmp, 'trailing ');
    mkdirSync(odd);
    expect(shellCanRun('stat', odd)).to.equal(false);
    expect(shellCanRun('stat', join(tmp, 'new\nline'))).to.equal(false);
    expect(shellCanRun('read', tmp)).to.equal(false);
    expect(shellCanRun('stat', tmp)).to.equal(true);
    expect(await probe.stat(odd, { timeoutMs: 10_000 })).to.include({ isDirectory: true });
    expect(await probe.isWritable(tmp, { timeoutMs: 10_000 })).to.equal(true);
    expect(probe.probeChildPids).to.have.length(1); // the Node child (no shell call was made)
  });

  it('decodes only its own lines', () => {
    const { decode, encode } = shellProbeProgram();
    expect(decode('ready 42')).to.deep.equal({ kind: 'ready', pid: 42 });
    expect(decode('7 0 41 41ed 0 0 0 1')).to.deep.include({ kind: 'ok', id: 7 });
    expect(decode('8 0 /real/path')).to.deep.equal({ kind: 'ok', id: 8, value: '/real/path' });
    expect(decode("9 1 stat: cannot statx '/m': Transport endpoint is not connected")).to.deep.include({ kind: 'error', id: 9 });
    expect((decode("9 1 stat: cannot statx '/m': Transport endpoint is not connected") as { error: { code: string } }).error.code).to.equal('ENOTCONN');
    expect((decode('9 1 something odd') as { error: { code: string } }).error.code).to.equal('EIO');
    expect(() => decode('{"ready":1}')).to.throw(SyntaxError);
    expect(encode({ id: 3, op: 'stat', path: '/a b' })).to.equal('3 stat /a b\n');
    expect(encode({ id: 4, op: 'read', path: '/a', position: 0, length: 1 })).to.equal('4 refuse /\n');
  });
});
