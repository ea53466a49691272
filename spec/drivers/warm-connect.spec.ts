import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import sinon from 'sinon';
import { FastPath } from '../../lib/drivers/fast-path.js';
import type { MountJudge } from '../../lib/drivers/mount-inspector.js';
import { warmConnect } from '../../lib/drivers/warm-connect.js';
import { UnsafeImageError } from '../../lib/errors.js';
import type { FileSystemProbe, PathStat, ProbeCall, ProbeCallResult } from '../../lib/filesystem/file-system-probe.js';
import { QCOW2_HEADER_READ_BYTES } from '../../lib/images/qcow2-header.js';
import { qcow2 } from '../images/qcow2-fixture.js';

use(chaiAsPromised);

const volume = { export: 'registry/v', mountPath: '/mnt/m', devicePath: '/mnt/m/volume-1' };
const judge: MountJudge = { isOwnMount: () => true, checkMountRoot: (stat) => (stat.size === 0 ? undefined : 'nonzero-size') };
const root: PathStat = { size: 0, mode: 0o40755, uid: 0, gid: 0, isFile: false, isDirectory: true, isSymbolicLink: false, dev: 41, ino: 1 };
const file: PathStat = { size: 4096, mode: 0o100644, uid: 0, gid: 0, isFile: true, isDirectory: false, isSymbolicLink: false, dev: 41, ino: 7 };
const raw = { format: 'raw' as const, encrypted: false };

/** A probe whose batch answers from `answer`, and whose single calls fail the test. */
function batchingProbe(answer: (calls: readonly ProbeCall[]) => ProbeCallResult[] | Promise<ProbeCallResult[]>) {
  const single = sinon.spy(() => Promise.reject(new Error('a single call: the batch should have answered')));
  const probe = {
    stat: single,
    lstat: single,
    readBytes: single,
    batch: sinon.spy((calls: readonly ProbeCall[]) => Promise.resolve(answer(calls))),
  } as unknown as FileSystemProbe & { batch: sinon.SinonSpy<[readonly ProbeCall[]], Promise<ProbeCallResult[]>> };
  return { probe, single };
}

function fastPathOn(probe: FileSystemProbe): FastPath {
  const fastPath = new FastPath(probe, judge, 30_000, 1_000);
  fastPath.remember(volume.mountPath, root);
  return fastPath;
}

describe('warmConnect()', () => {
  it('checks the root (same device) and gates a raw image in one batch: no single call', async () => {
    const { probe, single } = batchingProbe(() => [{ ok: root }, { ok: file }]);
    expect(await warmConnect(probe, fastPathOn(probe), volume, raw, 1_000)).to.deep.equal({ backingChain: [], exists: true });
    expect(probe.batch.callCount).to.equal(1);
    expect(probe.batch.firstCall.args[0]).to.deep.equal([{ op: 'stat', path: '/mnt/m', dev: 41 }, { op: 'lstat', path: '/mnt/m/volume-1' }]);
    expect(single.callCount).to.equal(0);
  });

  it('for qcow2 also reads the header and lstats again in that batch, and the gate judges those bytes', async () => {
    const header = qcow2();
    const { probe, single } = batchingProbe(() => [{ ok: root }, { ok: file }, { ok: header }, { ok: file }]);
    const result = await warmConnect(probe, fastPathOn(probe), volume, { format: 'qcow2', encrypted: false }, 1_000);
    expect(result).to.deep.include({ backingChain: [], exists: true });
    expect(probe.batch.firstCall.args[0].slice(2)).to.deep.equal([{ op: 'read', path: '/mnt/m/volume-1', position: 0, length: QCOW2_HEADER_READ_BYTES }, { op: 'lstat', path: '/mnt/m/volume-1' }]);
    expect(single.callCount).to.equal(0);
  });

  it('refuses an image swapped for a link, never cached', async () => {
    const { probe } = batchingProbe(() => [{ ok: root }, { ok: { ...file, isSymbolicLink: true, isFile: false, mode: 0o120777 } }]);
    await expect(warmConnect(probe, fastPathOn(probe), volume, raw, 1_000)).to.be.rejectedWith(UnsafeImageError);
  });

  it('refuses a qcow2 header naming a backing file outside, read in the same batch', async () => {
    const { probe } = batchingProbe(() => [{ ok: root }, { ok: file }, { ok: qcow2({ backing: '/etc/passwd' }) }, { ok: file }]);
    await expect(warmConnect(probe, fastPathOn(probe), volume, { format: 'qcow2', encrypted: false }, 1_000)).to.be.rejectedWith(UnsafeImageError);
  });

  it('a backing chain goes on with single calls after the batch', async () => {
    const sibling = '/mnt/m/base.qcow2';
    const probe = {
      batch: sinon.spy(() => Promise.resolve([{ ok: root }, { ok: file }, { ok: qcow2({ backing: 'base.qcow2', extensions: [[0xe2792aca, 'qcow2']] }) }, { ok: file }])),
      lstat: sinon.spy(() => Promise.resolve({ ...file, ino: 8 })),
      readBytes: sinon.spy(() => Promise.resolve(qcow2())),
      stat: sinon.spy(() => Promise.reject(new Error('no'))),
    } as unknown as FileSystemProbe;
    const result = await warmConnect(probe, fastPathOn(probe), volume, { format: 'qcow2', encrypted: false }, 1_000);
    expect(result?.backingChain.map((image) => image.name)).to.deep.equal(['base.qcow2']);
    expect((probe.lstat as sinon.SinonSpy<[string]>).args.map((args) => args[0])).to.deep.equal([sibling, sibling]);
    expect((probe.readBytes as sinon.SinonSpy).firstCall.args.slice(0, 3)).to.deep.equal([sibling, 0, QCOW2_HEADER_READ_BYTES]);
  });

  const fallbacks: Array<[string, () => ProbeCallResult[] | Promise<ProbeCallResult[]>]> = [
    ['another device at the mount path (EXDEV)', () => [{ error: Object.assign(new Error('EXDEV'), { code: 'EXDEV' }) }, undefined]],
    ['a stale root (size not 0)', () => [{ ok: { ...root, size: 4096 } }, { ok: file }]],
    ['a batch that timed out', () => Promise.reject(Object.assign(new Error('ETIMEDOUT'), { code: 'ETIMEDOUT' }))],
  ];
  for (const [what, answer] of fallbacks) {
    it(`leaves ${what} to the full, locked check, and forgets the mount`, async () => {
      const { probe } = batchingProbe(answer);
      const fastPath = fastPathOn(probe);
      expect(await warmConnect(probe, fastPath, volume, raw, 1_000)).to.equal(undefined);
      expect(fastPath.recentDevice(volume.mountPath)).to.equal(undefined);
    });
  }

  it('looks at nothing for a mount not validated recently', async () => {
    const { probe } = batchingProbe(() => [{ ok: root }, { ok: file }]);
    expect(await warmConnect(probe, new FastPath(probe, judge, 30_000, 1_000), volume, raw, 1_000)).to.equal(undefined);
    expect(probe.batch.callCount).to.equal(0);
  });

  it('without a batch of its own, a probe answers the same calls one by one', async () => {
    const probe = {
      stat: sinon.spy(() => Promise.resolve(root)),
      lstat: sinon.spy(() => Promise.resolve(file)),
    } as unknown as FileSystemProbe;
    expect(await warmConnect(probe, fastPathOn(probe), volume, raw, 1_000)).to.deep.equal({ backingChain: [], exists: true });
    expect((probe.stat as sinon.SinonSpy).callCount).to.equal(1);
    expect((probe.lstat as sinon.SinonSpy).callCount).to.equal(1);
  });
});
