/**
 * The driver run by an unprivileged agent, in both passes: the shared agent of
 * support/agent-driver.ts, a child process as `nobody` with
 * `privilegedHelper: ['sudo', '-n', <helper>]` and a sudoers drop-in that allows only the
 * helper, against real FUSE mounts of the stand-in client. The helper's configuration and the
 * base are root's; the store is the default one, in the folder pre-created for the agent in
 * the base. The mount table is read by root, whole.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { mountDirectoryName } from '../../lib/drivers/quobyte-export.js';
import { AttachmentStoreError, VolumeUnresponsiveError } from '../../lib/errors.js';
import { AGENT_UID, agentIdentity, helperOf, unprivilegedDriverFor, type DriverUnderTest } from './support/agent-driver.js';
import { STATE_FILE_NAME } from './support/driver-scene.js';
import { difference, mountTable } from './support/mount-table.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';
import { requireSudoTools } from './support/sudo-helper.js';

use(chaiAsPromised);

const GUEST_A = { uuid: '11111111-1111-4111-8111-111111111111' };
const GUEST_B = { uuid: '22222222-2222-4222-8222-222222222222' };
const EXPORT = 'registry/agent';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const ci = (exportName: string, name = 'volume-1'): ConnectionInfo => ({ driver_volume_type: 'quobyte', data: { export: exportName, name } });
/** Runs argv as the agent user, with no groups. */
const asAgent = (argv: string[]): number | null => spawnSync('setpriv', [`--reuid=${AGENT_UID}`, `--regid=${AGENT_UID}`, '--clear-groups', ...argv], { cwd: '/' }).status;

describe('the driver as an unprivileged agent through sudo and libvirt-volume-helper (real mounts)', function () {
  this.timeout(120_000);
  let host: RealHost;
  let tableBefore: string[];
  const mountPathOf = (exportName: string): string => join(host.mountBase, mountDirectoryName(exportName));
  const holders: Array<{ kill(signal: NodeJS.Signals): boolean }> = [];
  const agent = (probeTimeoutMs = 2_000): DriverUnderTest => unprivilegedDriverFor(host, { probeTimeoutMs }).driver;
  /** The helper run by hand as the agent user (an agent that died before recording). */
  const helperAsAgent = (...args: string[]): number | null => asAgent(['sudo', '-n', helperOf(host), ...args]);

  /** Holds a file under the mount open from a root process (a guest's qemu, say). */
  async function holdOpen(path: string): Promise<void> {
    const holder = spawn('sh', ['-c', 'exec 3<"$1"; echo ready; exec sleep 60', 'holder', path], { stdio: ['ignore', 'pipe', 'ignore'] });
    holders.push(holder);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
  }

  before(function () {
    requireRealHost(this);
    requireSudoTools(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    tableBefore = mountTable(host.root);
  });

  afterEach(() => {
    for (const holder of holders.splice(0)) holder.kill('SIGKILL');
    host.cleanUp(); // stops the agent and removes its sudoers drop-in first
  });

  it('runs as uid and gid 65534 with no supplementary group, and sudo allows it the helper and nothing else', async () => {
    agent();
    expect(await agentIdentity(host)).to.deep.equal({ uid: AGENT_UID, gid: AGENT_UID, groups: [AGENT_UID] }); // no supplementary group (getgroups lists the gid itself)
    expect(asAgent(['sudo', '-n', '/usr/bin/umount', host.mountBase])).to.equal(1);
    expect(asAgent(['sudo', '-n', '/bin/true'])).to.equal(1);
    expect(asAgent(['sudo', '-n', '/bin/sh', '-c', 'id'])).to.equal(1);
  });

  it('connects: the helper mounts exactly at <base>/<md5>; nothing else in the mount table changes', async () => {
    const driver = agent();
    expect(await driver.connectVolume(ci(`quobyte://${EXPORT}`), GUEST_A)).to.deep.include({ mountPath: mountPathOf(EXPORT), action: 'mounted' });
    expect(difference(mountTable(host.root), tableBefore)).to.deep.equal({ added: [`${mountPathOf(EXPORT)} fuse.quobyte quobyte@${EXPORT}`], removed: [] });
    expect(host.invocations().map((argv) => argv.slice(1))).to.deep.equal([['--disable-xattrs', EXPORT, mountPathOf(EXPORT)]]);
    expect((await driver.listAttachments()).toJSON()).to.deep.equal({ [mountPathOf(EXPORT)]: [`${GUEST_A.uuid}/volume-1`] });
    // The store is the default one, in the folder pre-created for the agent; the base holds nothing else but root's mount directory.
    const folder = join(host.mountBase, `${STATE_FILE_NAME}.d`);
    expect(statSync(folder).uid).to.equal(AGENT_UID);
    expect(readdirSync(host.mountBase).sort()).to.deep.equal([mountDirectoryName(EXPORT), `${STATE_FILE_NAME}.d`].sort());
    expect(statSync(mountPathOf(EXPORT)).uid).to.equal(0);
  });

  it('shares one mount between two guests and unmounts it through the helper when the last leaves', async () => {
    const driver = agent();
    await driver.connectVolume(ci(EXPORT, 'volume-a'), GUEST_A);
    await driver.connectVolume(ci(EXPORT, 'volume-b'), GUEST_B);
    expect(host.invocations()).to.have.length(1);
    expect(await driver.disconnectVolume(ci(EXPORT, 'volume-a'), GUEST_A)).to.deep.equal({ unmounted: false, reason: 'in-use' });
    expect(host.mounts()).to.have.length(1);
    expect(await driver.disconnectVolume(ci(EXPORT, 'volume-b'), GUEST_B)).to.deep.equal({ unmounted: true, reason: 'unmounted' });
    expect(mountTable(host.root)).to.deep.equal(tableBefore);
    expect(existsSync(mountPathOf(EXPORT))).to.equal(false);
  });

  it('repairs a crashed client (kill -9) on the next connect, with the data intact', async () => {
    const driver = agent();
    await driver.connectVolume(ci(EXPORT), GUEST_A);
    writeFileSync(join(mountPathOf(EXPORT), 'volume-1'), 'guest data');
    host.signalClient(mountPathOf(EXPORT), 'SIGKILL');
    await sleep(1_500); // past the kernel's attribute cache
    expect(await driver.inspectMount(mountPathOf(EXPORT))).to.deep.include({ state: 'stale', reason: 'not-connected' });
    expect(await driver.connectVolume(ci(EXPORT), GUEST_B)).to.deep.include({ action: 'repaired', staleReason: 'not-connected' });
    expect(readFileSync(join(mountPathOf(EXPORT), 'volume-1'), 'utf8')).to.equal('guest data');
    expect(difference(mountTable(host.root), tableBefore).added).to.have.length(1);
    expect(host.invocations()).to.have.length(2);
  });

  it('repairs a hung mount of an unused share: abort and lazy unmount through the helper, mounted again, in bounded time', async () => {
    // Mounted by the helper, then the agent died before it recorded anything: an unused share.
    agent();
    expect(helperAsAgent('mount', EXPORT)).to.equal(0);
    host.signalClient(mountPathOf(EXPORT), 'SIGSTOP');
    await sleep(1_500);
    const driver = agent(1_000);
    const started = performance.now();
    expect(await driver.connectVolume(ci(EXPORT), GUEST_A)).to.deep.include({ action: 'repaired', staleReason: 'unresponsive' });
    expect(performance.now() - started).to.be.below(20_000);
    expect(await driver.inspectMount(mountPathOf(EXPORT))).to.deep.include({ state: 'healthy' });
    expect(difference(mountTable(host.root), tableBefore).added).to.deep.equal([`${mountPathOf(EXPORT)} fuse.quobyte quobyte@${EXPORT}`]);
  });

  it('reports busy and keeps the mount while a guest holds a file on it', async () => {
    const driver = agent();
    await driver.connectVolume(ci(EXPORT), GUEST_A);
    const image = join(mountPathOf(EXPORT), 'volume-1');
    writeFileSync(image, 'open me');
    await holdOpen(image);
    expect(await driver.disconnectVolume(ci(EXPORT), GUEST_A)).to.deep.equal({ unmounted: false, reason: 'busy' });
    expect(host.mounts()).to.have.length(1);
    expect((await driver.listAttachments()).toJSON()).to.deep.equal({});
  });

  describe('what an unprivileged agent cannot do', () => {
    it('keep its store in the root-owned base without the folder pre-created for it: refused, nothing left mounted', async () => {
      const driver = agent();
      await agentIdentity(host);
      rmdirSync(join(host.mountBase, `${STATE_FILE_NAME}.d`));
      await expect(driver.connectVolume(ci(EXPORT), GUEST_A)).to.be.rejectedWith(AttachmentStoreError, /EACCES/);
      expect(mountTable(host.root)).to.deep.equal(tableBefore);
    });

    // /proc/<pid>/fd of other users' processes is closed to it: it counts a guest's qemu as no
    // user, and once repaired (aborted) a hung share in use. The helper, root, counts them.
    it('see files other users hold open on a hung share: the helper refuses to abort it, the connect is refused and the share left alone', async () => {
      agent();
      expect(helperAsAgent('mount', EXPORT)).to.equal(0);
      const image = join(mountPathOf(EXPORT), 'volume-1');
      writeFileSync(image, 'in use by a guest the agent does not know of');
      await holdOpen(image);
      host.signalClient(mountPathOf(EXPORT), 'SIGSTOP');
      await sleep(1_500);
      const driver = agent(1_000);
      const tableHung = mountTable(host.root);
      await expect(driver.connectVolume(ci(EXPORT), GUEST_A)).to.be.rejectedWith(VolumeUnresponsiveError, /is in use \(files open by 1 process\(es\)\); not aborted/);
      expect(mountTable(host.root)).to.deep.equal(tableHung);
      expect(host.invocations()).to.have.length(1);
      expect((await driver.listAttachments()).toJSON()).to.deep.equal({});
      // The operator may still take it, by hand: the helper's --force.
      host.signalClient(mountPathOf(EXPORT), 'SIGCONT');
      expect(helperAsAgent('abort', EXPORT, '--force')).to.equal(0);
    });
  });
});
