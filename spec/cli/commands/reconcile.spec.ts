import { expect } from 'chai';
import { FileAttachmentStore } from '../../../lib/attachments/file-attachment-store.js';
import type { FakeHost } from '../../support/fake-host.js';
import { BASE, MOUNT_PATH, attachArgs, onHost, readStore, runCaptured, snapshotStore, useCliFixture } from '../cli-harness.js';

const ORPHAN = '/mnt/8a971899307d4fc11c7e176697cc2570';

describe('libvirt-volume reconcile', () => {
  const fixture = useCliFixture();
  let host: FakeHost;
  let state: string;

  beforeEach(() => {
    ({ host, state } = fixture);
  });

  function reconcile(...extra: string[]): ReturnType<typeof runCaptured> {
    return runCaptured(['reconcile', '--base', BASE, '--state', state, ...extra], onHost(host));
  }

  async function connectOne(): Promise<void> {
    expect((await runCaptured(attachArgs('connect', state), onHost(host))).exitCode).to.equal(0);
    host.commands.length = 0;
  }

  it('exits 0 and says so when mounts and store agree', async () => {
    await connectOne();
    expect(await reconcile()).to.deep.equal({ exitCode: 0, stderr: '', stdout: `nothing to reconcile under ${BASE}\n` });
    expect(host.commands).to.deep.equal([]);
  });

  it('unmounts an own mount no attachment needs, removes its directory, and exits 0', async () => {
    await connectOne();
    host.addQuobyteMount(ORPHAN, 'quobyte@reg:7861/orphan');
    expect(await reconcile()).to.deep.equal({ exitCode: 0, stderr: '', stdout: `unmounted ${ORPHAN}: no attachment needs it\n` });
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${ORPHAN}`]);
    expect(host.isMounted(ORPHAN)).to.equal(false);
    expect(host.directories.has(ORPHAN)).to.equal(false);
    expect(host.isMounted(MOUNT_PATH)).to.equal(true);
  });

  it('with --dry-run says what it would unmount and changes nothing', async () => {
    await connectOne();
    host.addQuobyteMount(ORPHAN, 'quobyte@reg:7861/orphan');
    const snapshot = snapshotStore(state);
    expect(await reconcile('--dry-run')).to.deep.equal({ exitCode: 0, stderr: '', stdout: `would unmount ${ORPHAN}: no attachment needs it\n` });
    expect(host.commands).to.deep.equal([]);
    expect(host.isMounted(ORPHAN)).to.equal(true);
    expect(snapshotStore(state)).to.deep.equal(snapshot);
  });

  it('exits 3 when a mount no attachment needs is busy (kept)', async () => {
    host.addQuobyteMount(ORPHAN, 'quobyte@reg:7861/orphan');
    host.busy.add(ORPHAN);
    expect(await reconcile()).to.deep.equal({ exitCode: 3, stderr: '', stdout: `kept ${ORPHAN}: no attachment needs it, but it is busy or hung with files open\n` });
    expect(host.isMounted(ORPHAN)).to.equal(true);
  });

  it('exits 3 for attachments whose share is gone, a foreign file system and stacked mounts, and touches none', async () => {
    await connectOne();
    host.mounts.splice(0, host.mounts.length);
    host.mounts.push({ mountPoint: '/mnt/77f64e6c6f3eaff5b9a9f4658188ce10', source: 'tmpfs', fsType: 'tmpfs', options: ['rw'] });
    host.addQuobyteMount(ORPHAN, 'quobyte@reg:7861/orphan');
    host.addQuobyteMount(ORPHAN, 'quobyte@reg:7861/orphan');
    const { exitCode, stdout } = await reconcile('--dry-run');
    expect(exitCode).to.equal(3);
    expect(stdout.split('\n')).to.include.members([
      `missing ${MOUNT_PATH}: not mounted, though attachments are recorded (0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11/volume-00000001)`,
      `stacked ${ORPHAN}: more than one mount of ours on top of each other`,
      'foreign /mnt/77f64e6c6f3eaff5b9a9f4658188ce10: another file system; left alone',
    ]);
    expect(host.commands).to.deep.equal([]);
    expect(readStore(state)).to.have.property(MOUNT_PATH);
  });

  it('prints the same report as JSON with --json', async () => {
    await connectOne();
    host.addQuobyteMount(ORPHAN, 'quobyte@reg:7861/orphan');
    const { exitCode, stdout } = await reconcile('--json');
    expect(exitCode).to.equal(0);
    expect(JSON.parse(stdout)).to.deep.equal({ dryRun: false, unmounted: [ORPHAN], kept: [], missing: [], stacked: [], flattened: [], foreign: [] });
  });

  it('exits 4 when the base does not exist, changing nothing', async () => {
    const result = await runCaptured(['reconcile', '--base', '/nowhere', '--state', state], onHost(host));
    expect(result).to.deep.equal({ exitCode: 4, stdout: '', stderr: 'libvirt-volume: ERR_BASE_NOT_FOUND: The mount point base /nowhere does not exist or is not a directory\n' });
  });

  it('escapes control characters and bidi overrides of host text in its lines', async () => {
    await new FileAttachmentStore(state).add('/mnt/evil\u001b[2J\nx', 'guest/\u202evol');
    const { exitCode, stdout } = await reconcile();
    expect(exitCode).to.equal(3);
    expect(stdout).to.equal('missing /mnt/evil\\033[2J\\012x: not mounted, though attachments are recorded (guest/\\u202evol)\n');
  });

  it('documents its exit statuses and its place at an agent\'s start in --help', async () => {
    const { stdout } = await runCaptured(['reconcile', '--help']);
    expect(stdout).to.match(/after restoreAttachments/);
    for (const line of [/^ {2}0 {2}nothing was left/m, /^ {2}3 {2}something is left for an operator/m, /^ {2}4 {2}the base/m]) expect(stdout).to.match(line);
    expect((await runCaptured(['--help'])).stdout).to.match(/restoreAttachments[^]*reconcile/);
  });
});
