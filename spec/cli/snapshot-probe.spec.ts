import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, realpath, rm, stat as fsStat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SnapshotProbe } from '../../lib/cli/snapshot-probe.js';

/** A mountinfo line for a FUSE mount at `mountPoint` (a space written `\040`, as the kernel does). */
const mountLine = (id: number, mountPoint: string): string => `${id} 1 0:${id} / ${mountPoint.replaceAll(' ', '\\040')} rw,nosuid - fuse.quobyte quobyte@registry/v${id} rw\n`;

describe('SnapshotProbe (status)', () => {
  let tmp: string;
  let base: string;
  let table: string;
  const probes: SnapshotProbe[] = [];
  const probe = (): SnapshotProbe => {
    const made = new SnapshotProbe({ mountInfoPath: table });
    probes.push(made);
    return made;
  };

  beforeEach(async () => {
    tmp = await realpath(await mkdtemp(join(tmpdir(), 'snapshot-probe-spec-')));
    base = join(tmp, 'mnt');
    mkdirSync(join(base, 'aaaa'), { recursive: true });
    mkdirSync(join(base, 'bb bb'));
    table = join(tmp, 'mountinfo');
    writeFileSync(table, mountLine(41, join(base, 'aaaa')) + mountLine(42, join(base, 'bb bb')) + mountLine(43, join(tmp, 'elsewhere')) + mountLine(44, join(base, 'gone')));
  });

  afterEach(async () => {
    for (const made of probes.splice(0)) made.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('answers stat of the base, the state folder and the mounts under the base, and realpath of the base, with no probe child', async () => {
    const snap = probe();
    await snap.snapshot(`${base}/`, join(tmp, 'state', 'attachments.json'));
    for (const path of [base, join(base, 'aaaa'), join(base, 'bb bb')]) {
      const real = await fsStat(path);
      expect(await snap.stat(path, { timeoutMs: 5_000 }), path).to.deep.equal({ dev: real.dev, mode: real.mode, size: real.size, uid: real.uid, gid: real.gid, ino: real.ino, isFile: false, isDirectory: true, isSymbolicLink: false });
    }
    expect(await snap.realPath(base)).to.equal(base);
    expect(snap.probeChildPids).to.deep.equal([]);
  });

  it('leaves what it could not answer to the probe child: a missing mount point, a path outside, a fresh look', async () => {
    const snap = probe();
    await snap.snapshot(base, join(base, 'attachments.json'));
    const missing = await snap.stat(join(base, 'gone'), { timeoutMs: 5_000 }).then(() => 'found', (error: unknown) => (error as NodeJS.ErrnoException).code);
    expect(missing).to.equal('ENOENT');
    expect(snap.probeChildPids).to.have.length(1);
    expect(await snap.stat(join(base, 'aaaa'), { timeoutMs: 5_000, fresh: true })).to.include({ isDirectory: true });
  });

  it('serves the mount table it read to the whole command (one moment), and copies of it', async () => {
    const snap = probe();
    await snap.snapshot(base, join(base, 'attachments.json'));
    writeFileSync(table, mountLine(45, join(base, 'later')));
    const mounts = await snap.listMounts();
    expect(mounts.map((entry) => entry.mountPoint)).to.deep.equal([join(base, 'aaaa'), join(base, 'bb bb'), join(tmp, 'elsewhere'), join(base, 'gone')]);
    mounts.pop();
    expect(await snap.listMounts()).to.have.length(4);
  });

  it('resolves a symlinked base as realpath does', async () => {
    const link = join(tmp, 'link');
    symlinkSync(base, link);
    const snap = probe();
    await snap.snapshot(link, join(link, 'attachments.json'));
    expect(await snap.realPath(link)).to.equal(base);
    expect(snap.probeChildPids).to.deep.equal([]);
  });

  it('gives up at its deadline when a stat hangs, kills what it started, and the probe child answers instead', async function () {
    this.timeout(30_000);
    // A `stat` that never answers, first on PATH, stands in for one stuck on a hung mount.
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    const marker = `sleep 60.${String(process.pid).padStart(7, '0')}`;
    writeFileSync(join(bin, 'stat'), `#!/bin/sh\nexec ${marker}\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path ?? ''}`;
    try {
      const snap = probe();
      const started = performance.now();
      await snap.snapshot(base, join(base, 'attachments.json'), 300);
      expect(performance.now() - started).to.be.below(3_000);
      const left = (): boolean => spawnSync('pgrep', ['-f', marker]).status === 0;
      for (let tries = 0; tries < 50 && left(); tries += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(left(), 'the stuck stat was left behind').to.equal(false);
      expect(await snap.stat(join(base, 'aaaa'), { timeoutMs: 10_000 })).to.include({ isDirectory: true });
      expect(snap.probeChildPids).to.have.length(1);
    } finally {
      process.env.PATH = path;
    }
  });
});
