import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, realpath, rm, stat as fsStat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PathStat, ProbeCall } from '../../lib/filesystem/file-system-probe.js';
import { NodeFileSystemProbe } from '../../lib/filesystem/node-file-system-probe.js';
import { hangingNode } from '../support/hanging-node.js';

describe('NodeFileSystemProbe.batch()', () => {
  let tmp: string;
  let image: string;
  const probes = { 'in a probe child': new NodeFileSystemProbe(), 'in this process (contained: false)': new NodeFileSystemProbe({ contained: false }) };

  beforeEach(async () => {
    tmp = await realpath(await mkdtemp(join(tmpdir(), 'probe-batch-spec-')));
    image = join(tmp, 'volume-1');
    await writeFile(image, Buffer.from('QFI\xfb and the rest of a header', 'latin1'));
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  after(() => {
    for (const probe of Object.values(probes)) probe.close();
  });

  for (const [how, probe] of Object.entries(probes)) {
    describe(how, () => {
      it('answers each call in order: stat, lstat, read', async () => {
        const { dev, ino } = await fsStat(tmp);
        const results = await probe.batch([{ op: 'stat', path: tmp, dev }, { op: 'lstat', path: image }, { op: 'read', path: image, position: 0, length: 4 }], { timeoutMs: 5_000 });
        expect(results).to.have.length(3);
        expect(results[0]?.ok).to.include({ isDirectory: true, dev, ino });
        expect(results[1]?.ok).to.include({ isFile: true, size: (await fsStat(image)).size });
        expect(Buffer.from(results[2]?.ok as Uint8Array).toString('latin1')).to.equal('QFI\xfb');
      });

      it('stops at a stat on another device than expected (EXDEV): the calls after it never run', async () => {
        const { dev } = await fsStat(tmp);
        const results = await probe.batch([{ op: 'stat', path: tmp, dev: dev + 1 }, { op: 'lstat', path: image }], { timeoutMs: 5_000 });
        expect(results[0]?.error?.code).to.equal('EXDEV');
        expect(results[1]).to.equal(undefined);
      });

      it('stops at the first failure, keeping its errno code and path', async () => {
        const missing = join(tmp, 'missing');
        const results = await probe.batch([{ op: 'lstat', path: missing }, { op: 'stat', path: tmp }], { timeoutMs: 5_000 });
        expect(results[0]?.error).to.include({ code: 'ENOENT', path: missing });
        expect(results[1]).to.equal(undefined);
      });

      it('reads through no final link (ELOOP) and lstat says what the link is', async () => {
        const link = join(tmp, 'link');
        await symlink(image, link);
        const results = await probe.batch([{ op: 'lstat', path: link }, { op: 'read', path: link, position: 0, length: 4 }], { timeoutMs: 5_000 });
        expect((results[0]?.ok as PathStat).isSymbolicLink).to.equal(true);
        expect(results[1]?.error?.code).to.equal('ELOOP');
      });

      it('resolves relative paths against this process, not the child', async () => {
        const results = await probe.batch([{ op: 'stat', path: '.' }], { timeoutMs: 5_000 });
        expect((results[0]?.ok as PathStat).ino).to.equal((await fsStat('.')).ino);
      });
    });
  }

  it('a child refuses a nested batch or an operation a batch may not hold, and stops there', async () => {
    const probe = probes['in a probe child'];
    const results = await probe.batch([{ op: 'mkdir', path: join(tmp, 'never') } as unknown as ProbeCall, { op: 'stat', path: tmp }], { timeoutMs: 5_000 });
    expect(results[0]?.error?.code).to.equal('EINVAL');
    expect(results[1]).to.equal(undefined);
    expect(await fsStat(join(tmp, 'never')).then(() => 'made', () => 'not made')).to.equal('not made');
  });

  it('a batch stuck on a hung file times out as a whole, and its child is killed', async function () {
    this.timeout(20_000);
    const fifo = join(tmp, 'image.hang');
    execFileSync('mkfifo', [fifo]);
    const probe = new NodeFileSystemProbe({ probeChildren: { execPath: hangingNode(tmp) } });
    try {
      await probe.batch([{ op: 'stat', path: tmp }], { timeoutMs: 10_000 }); // the child is up
      const [pid] = probe.probeChildPids;
      const started = performance.now();
      const error = await probe.batch([{ op: 'stat', path: tmp }, { op: 'read', path: fifo, position: 0, length: 4 }], { timeoutMs: 300 }).then(() => undefined, (e: unknown) => e as NodeJS.ErrnoException);
      expect(error?.code).to.equal('ETIMEDOUT');
      expect(performance.now() - started).to.be.below(3_000);
      // The hung child is gone; the next batch gets a new one.
      expect(probe.probeChildPids).to.not.include(pid);
      expect((await probe.batch([{ op: 'stat', path: tmp }], { timeoutMs: 10_000 }))[0]?.ok).to.include({ isDirectory: true });
      expect(probe.probeChildPids).to.have.length(1).and.not.include(pid);
    } finally {
      probe.close();
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // nobody is waiting on it any more
      }
    }
  });
});
