import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import sinon from 'sinon';
import type { CommandRunner } from '../../lib/commands/command-runner.js';
import { undoMisplacedMounts, type MisplacedMountContext } from '../../lib/drivers/misplaced-mount-guard.js';
import { MountInspector } from '../../lib/drivers/mount-inspector.js';
import { InsecureMountBaseError } from '../../lib/errors.js';
import type { FileSystemProbe, MountEntry } from '../../lib/filesystem/file-system-probe.js';

use(chaiAsPromised);

const BASE = '/var/lib/nova/mnt';
const MOUNT = `${BASE}/c94ed34ada0acf45c1213beb1fc52ce6`;
const ROOT: MountEntry = { mountPoint: '/', source: '/dev/sda1', fsType: 'ext4', options: [], mountId: 1 };
const ours = (mountPoint: string, mountId: number, source = 'quobyte@reg/vol'): MountEntry => ({ mountPoint, source, fsType: 'fuse.quobyte', options: [], mountId });

describe('undoMisplacedMounts()', () => {
  const sandbox = sinon.createSandbox();
  let table: MountEntry[];
  let run: sinon.SinonStub<Parameters<CommandRunner['run']>, ReturnType<CommandRunner['run']>>;
  let context: MisplacedMountContext;

  beforeEach(() => {
    table = [ROOT];
    run = sandbox.stub<Parameters<CommandRunner['run']>, ReturnType<CommandRunner['run']>>().resolves({ stdout: '', stderr: '', exitCode: 0 });
    const probe = { listMounts: () => Promise.resolve(table) } as unknown as FileSystemProbe;
    const inspector = new MountInspector(probe, { isOwnMount: (entry) => entry.fsType === 'fuse.quobyte', checkMountRoot: () => undefined }, BASE, 1_000);
    context = { volume: { export: 'reg/vol', mountPath: MOUNT, devicePath: `${MOUNT}/v` }, probe, runner: { run }, inspector, commandTimeoutMs: 5_000 };
  });

  afterEach(() => {
    sandbox.restore();
  });

  it('does nothing when the mount appeared where it should', async () => {
    table = [ROOT, ours(MOUNT, 7)];
    await undoMisplacedMounts(context, [ROOT]);
    expect(run.called).to.equal(false);
  });

  it('detaches a mount of the export that landed elsewhere, by the kernel\'s path, and refuses', async () => {
    table = [ROOT, ours('/etc', 7)];
    const error = await undoMisplacedMounts(context, [ROOT]).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(InsecureMountBaseError).and.to.have.property('code', 'ERR_INSECURE_MOUNT_BASE');
    expect((error as Error).message).to.contain(`landed at /etc instead of ${MOUNT}`);
    expect(run.args.map(([command]) => [command.file, ...command.args])).to.deep.equal([['umount', '-l', '--no-canonicalize', '/etc']]);
  });

  it('says so when the detach failed', async () => {
    table = [ROOT, ours('/etc', 7)];
    run.rejects(new Error('umount failed'));
    await expect(undoMisplacedMounts(context, [ROOT])).to.be.rejectedWith(InsecureMountBaseError, '/etc (still mounted)');
  });

  it('never touches another export\'s mount, a mount that was there before, or one of the export made elsewhere while its own landed', async () => {
    const earlier = ours('/srv/earlier', 5);
    table = [ROOT, earlier, ours('/srv/other', 8, 'quobyte@reg/other'), ours('/srv/suffix', 11, 'quobyte@xreg/vol')];
    await undoMisplacedMounts(context, [ROOT, earlier]);
    table = [ROOT, ours(MOUNT, 9), ours('/other/base/c94ed34ada0acf45c1213beb1fc52ce6', 10)];
    await undoMisplacedMounts(context, [ROOT]);
    expect(run.called).to.equal(false);
  });
});
