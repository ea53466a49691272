/**
 * The state file (issue 9) on real mounts: a corrupt store stops a connect before anything is
 * mounted and deletes nothing; a store reached through a symbolic link is one store for every
 * process; an agent-owned store keeps its owner and mode when the root CLI writes to it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { FileAttachmentStore } from '../../lib/attachments/file-attachment-store.js';
import { AttachmentStoreError } from '../../lib/errors.js';
import { encodeFileName } from '../../lib/filesystem/file-name.js';
import { argvOf, itRootAgentOnly } from './support/agent-driver.js';
import type { RealHost } from './support/real-host.js';
import { STATE_FILE_NAME, WORKTREE, ci, finished, guest, makeDriver, mountLayers, writeBackingImage, useRealHost } from './support/driver-scene.js';

use(chaiAsPromised);

const EXPORT = 'registry/state';
const NOBODY = 65_534;

describe('state file: corrupt, linked and agent-owned stores (real mounts)', function () {
  this.timeout(120_000);
  const currentHost = useRealHost((host) => { writeBackingImage(host, EXPORT); });
  let host: RealHost;
  beforeEach(() => {
    host = currentHost();
  });

  /** The CLI as a root operator runs it, one process per command. */
  async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return finished(spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args, '--base', host.mountBase], { cwd: WORKTREE, env: { ...host.env, HOME: '/tmp' } }));
  }

  const storeFolder = (): string => join(host.mountBase, `${STATE_FILE_NAME}.d`);

  describe('a corrupt store', () => {
    it('a garbage entry where this share\'s records go: connect fails with AttachmentStoreError, nothing is mounted or deleted', async () => {
      const { driver, runner } = makeDriver(host);
      const mountPath = driver.getMountPath(ci(EXPORT));
      // Another share's record, and garbage in this one's folder.
      await new FileAttachmentStore(join(host.mountBase, STATE_FILE_NAME)).add('/elsewhere/mnt/other', 'kept/volume-9');
      const folder = join(storeFolder(), encodeFileName(mountPath)!);
      mkdirSync(folder);
      writeFileSync(join(folder, '%%garbage'), 'x');

      await expect(driver.connectVolume(ci(EXPORT), guest(1))).to.be.rejectedWith(AttachmentStoreError, /corrupt/);
      expect(runner.argv).to.deep.equal([]);
      expect(mountLayers(host.mountBase)).to.deep.equal(new Map());
      expect(readdirSync(folder)).to.deep.equal(['%%garbage']);
      expect(readdirSync(join(storeFolder(), encodeFileName('/elsewhere/mnt/other')!))).to.deep.equal([encodeFileName('kept/volume-9')]);
    });

    it('on a share in use: connect and disconnect fail, the share and its guest\'s record stay', async () => {
      const { driver, runner } = makeDriver(host);
      const { mountPath } = await driver.connectVolume(ci(EXPORT), guest(1));
      const folder = join(storeFolder(), encodeFileName(mountPath)!);
      mkdirSync(join(folder, 'a-folder-where-a-record-belongs'));

      await expect(driver.connectVolume(ci(EXPORT), guest(2))).to.be.rejectedWith(AttachmentStoreError);
      await expect(driver.disconnectVolume(ci(EXPORT), guest(1))).to.be.rejectedWith(AttachmentStoreError);
      await expect(driver.reconcile()).to.be.rejectedWith(AttachmentStoreError);
      expect(runner.argv).to.have.length(1);
      expect(mountLayers(host.mountBase)).to.deep.equal(new Map([[mountPath, 1]]));
      expect(readdirSync(folder).sort()).to.deep.equal(['a-folder-where-a-record-belongs', encodeFileName(`${guest(1).uuid}/volume-1`)].sort());
    });

    it('garbage beside the records of other shares: reconcile and listAttachments refuse, nothing is unmounted', async () => {
      const { driver, runner } = makeDriver(host);
      const { mountPath } = await driver.connectVolume(ci(EXPORT), guest(1));
      await driver.disconnectVolume(ci(EXPORT), guest(1));
      await driver.connectVolume(ci(EXPORT), guest(1));
      writeFileSync(join(storeFolder(), 'garbage'), 'x');
      await expect(driver.reconcile()).to.be.rejectedWith(AttachmentStoreError, /garbage/);
      await expect(driver.listAttachments()).to.be.rejectedWith(AttachmentStoreError);
      expect(runner.argv.filter((argv) => argv === argvOf(host).umount(EXPORT))).to.have.length(1);
      expect(mountLayers(host.mountBase)).to.deep.equal(new Map([[mountPath, 1]]));
      expect(existsSync(join(storeFolder(), 'garbage'))).to.be.true;
    });
  });

  itRootAgentOnly('an unprivileged agent\'s store is the folder an operator pre-creates in the base for it, not a link elsewhere', 'a store reached through a symbolic link: the agent, the CLI and a third process use one store', async () => {
    const real = join(host.root, 'var', 'attachments.json');
    mkdirSync(join(host.root, 'var'));
    const link = join(host.mountBase, STATE_FILE_NAME);
    symlinkSync(real, link);
    // The agent: the driver's default store of its base, which is the link.
    const { driver } = makeDriver(host);
    const { mountPath } = await driver.connectVolume(ci(EXPORT), guest(1));
    // The CLI: its default store of the same base.
    const connected = await cli('connect', '--export', EXPORT, '--name', 'volume-1', '--instance', guest(2).uuid);
    expect(connected.code, connected.stderr).to.equal(0);
    const both = [`${guest(1).uuid}/volume-1`, `${guest(2).uuid}/volume-1`];
    // A third process naming the real path sees both; the link is still a link; one folder.
    expect((await new FileAttachmentStore(real).entries()).get(mountPath)).to.deep.equal(both);
    expect(lstatSync(link).isSymbolicLink()).to.be.true;
    expect(readlinkSync(link)).to.equal(real);
    expect(existsSync(`${link}.d`)).to.be.false;
    expect(existsSync(`${real}.d`)).to.be.true;
    // The CLI's disconnect sees the agent's guest: the share stays.
    const left = await cli('disconnect', '--export', EXPORT, '--name', 'volume-1', '--instance', guest(2).uuid);
    expect(left.code, left.stderr).to.equal(0);
    expect(mountLayers(host.mountBase)).to.deep.equal(new Map([[mountPath, 1]]));
    expect(await driver.disconnectVolume(ci(EXPORT), guest(1))).to.deep.equal({ unmounted: true, reason: 'unmounted' });
  });

  it('an agent-owned 0600 store keeps its owner and mode when the root CLI writes it, and the agent goes on', async () => {
    chmodSync(host.root, 0o755);
    const agentHome = join(host.root, 'agent');
    mkdirSync(agentHome, { mode: 0o700 });
    chownSync(agentHome, NOBODY, NOBODY);
    const state = join(agentHome, 'attachments.json');
    const module = join(WORKTREE, 'lib/attachments/file-attachment-store.ts');
    const asAgent = (code: string): { status: number | null; stderr: string; stdout: string } =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { FileAttachmentStore } from ${JSON.stringify(module)}; const store = new FileAttachmentStore(${JSON.stringify(state)}); ${code}`], {
        uid: NOBODY, gid: NOBODY, cwd: WORKTREE, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
      });
    expect(asAgent(`await store.add('/var/lib/nova/mnt/agent', 'a/volume-1');`).status).to.equal(0);
    const connected = await cli('connect', '--export', EXPORT, '--name', 'volume-1', '--instance', guest(3).uuid, '--state', state);
    expect(connected.code, connected.stderr).to.equal(0);
    const folder = `${state}.d`;
    const owners = (path: string): string => { const stat = lstatSync(path); return `${stat.uid}:${stat.gid} ${(stat.mode & 0o777).toString(8)}`; };
    const written = readdirSync(folder).filter((name) => !name.startsWith('.'));
    expect(written).to.have.length(2);
    for (const name of written) {
      expect(owners(join(folder, name)), name).to.equal(`${NOBODY}:${NOBODY} 700`);
      for (const record of readdirSync(join(folder, name))) expect(owners(join(folder, name, record)), record).to.equal(`${NOBODY}:${NOBODY} 600`);
    }
    // The agent reads and writes what the root CLI wrote.
    const agent = asAgent(`const [mountPath] = [...(await store.entries()).keys()].filter((path) => !path.endsWith('/agent')); await store.remove(mountPath, ${JSON.stringify(`${guest(3).uuid}/volume-1`)}); await store.add(mountPath, 'b/volume-1'); console.log(JSON.stringify([...(await store.entries())]));`);
    expect(agent.status, agent.stderr).to.equal(0);
    expect(JSON.parse(agent.stdout) as unknown[]).to.have.length(2);
  });
});
