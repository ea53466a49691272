import { writeFileSync } from 'node:fs';
import { expect } from 'chai';
import sinon from 'sinon';
import { FileAttachmentStore } from '../../../lib/attachments/file-attachment-store.js';
import type { FakeHost } from '../../support/fake-host.js';
import {
  BASE,
  INSTANCE,
  MOUNT_PATH,
  NAME,
  NORMALISED,
  OTHER_INSTANCE,
  attachArgs,
  mountPathOf,
  onHost,
  runCaptured,
  useCliFixture,
} from '../cli-harness.js';

const STALE = '/mnt/8a971899307d4fc11c7e176697cc2570';
const HUNG = '/mnt/77f64e6c6f3eaff5b9a9f4658188ce10';
const GONE = '/mnt/c5900bef0e8a691294f7a0d84f314792';
const SCRATCH = '/mnt/scratch';

describe('libvirt-volume status', () => {
  const fixture = useCliFixture();
  let host: FakeHost;
  let dir: string;
  let state: string;

  beforeEach(() => {
    ({ host, dir, state } = fixture);
  });

  function status(...extra: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    return runCaptured(['status', '--base', BASE, '--state', state, ...extra], onHost(host));
  }

  it('checks its own fixtures: the mount paths are <base>/<md5 of the export>', () => {
    expect([mountPathOf(BASE, 'reg:7861/stale'), mountPathOf(BASE, 'reg:7861/hung'), mountPathOf(BASE, 'reg:7861/gone')]).to.deep.equal([STALE, HUNG, GONE]);
  });

  it('shows a mount made by connect as healthy, with its attachment, in a later run', async () => {
    expect((await runCaptured(attachArgs('connect', state), onHost(host))).exitCode).to.equal(0);
    const result = await status();
    expect(result).to.deep.equal({
      exitCode: 0,
      stderr: '',
      stdout: [
        'MOUNT PATH                             EXPORT                    HEALTH   ATTACHMENTS',
        `${MOUNT_PATH}  192.168.1.1/volume-00001  healthy  ${INSTANCE}/${NAME}`,
        '',
      ].join('\n'),
    });
    const json = JSON.parse((await status('--json')).stdout) as unknown;
    expect(json).to.deep.equal([{ mountPath: MOUNT_PATH, export: NORMALISED, fsType: 'fuse.quobyte', health: 'healthy', attachments: [`${INSTANCE}/${NAME}`], problems: [] }]);
  });

  it('says so when there is nothing under the base, and prints [] as JSON', async () => {
    expect(await status()).to.deep.equal({ exitCode: 0, stderr: '', stdout: `no mounts or attachments under ${BASE}\n` });
    expect(await status('--json')).to.deep.equal({ exitCode: 0, stderr: '', stdout: '[]\n' });
  });

  describe('every kind of mount', () => {
    beforeEach(async () => {
      expect((await runCaptured(attachArgs('connect', state), onHost(host))).exitCode).to.equal(0);
      expect((await runCaptured(attachArgs('connect', state, OTHER_INSTANCE), onHost(host))).exitCode).to.equal(0);
      host.addQuobyteMount(STALE, 'quobyte@reg:7861/stale');
      host.stats.set(STALE, { errno: 'ENOTCONN' });
      host.addQuobyteMount(HUNG, 'quobyte@reg:7861/hung');
      host.stats.set(HUNG, { errno: 'ETIMEDOUT' });
      host.mounts.push({ mountPoint: SCRATCH, source: 'tmpfs', fsType: 'tmpfs', options: ['rw'] });
      const store = new FileAttachmentStore(state);
      await store.add(STALE, `${INSTANCE}/volume-stale`);
      await store.add(GONE, `${INSTANCE}/volume-gone`);
      // Not directly under the base: left out.
      host.mounts.push({ mountPoint: BASE, source: 'tmpfs', fsType: 'tmpfs', options: ['rw'] });
      host.mounts.push({ mountPoint: `${BASE}/scratch/nested`, source: 'tmpfs', fsType: 'tmpfs', options: ['rw'] });
      host.mounts.push({ mountPoint: '/mntx/c94ed34ada0acf45c1213beb1fc52ce6', source: 'quobyte@reg/other', fsType: 'fuse.quobyte', options: ['rw'] });
      await store.add('/elsewhere/c5900bef0e8a691294f7a0d84f314792', `${INSTANCE}/volume-elsewhere`);
      host.runner.run.resetHistory();
    });

    it('prints an aligned table: healthy, stale, unresponsive and orphaned, foreign and absent; exit 3', async () => {
      const result = await status();
      expect(result).to.deep.equal({
        exitCode: 3,
        stderr: '',
        stdout: [
          'MOUNT PATH                             EXPORT                    HEALTH                  ATTACHMENTS',
          `${HUNG}  reg:7861/hung             unresponsive, orphaned  -`,
          `${STALE}  reg:7861/stale            stale (not-connected)   ${INSTANCE}/volume-stale`,
          `${GONE}  -                         absent                  ${INSTANCE}/volume-gone`,
          `${MOUNT_PATH}  192.168.1.1/volume-00001  healthy                 ${INSTANCE}/${NAME},${OTHER_INSTANCE}/${NAME}`,
          `${SCRATCH}                           tmpfs                     foreign                 -`,
          '',
        ].join('\n'),
      });
      expect(host.runner.run.called).to.be.false;
    });

    it('prints the same as a JSON array, with the same exit status', async () => {
      const result = await status('--json');
      expect(result.exitCode).to.equal(3);
      expect(result.stdout.endsWith(']\n')).to.be.true;
      expect(JSON.parse(result.stdout)).to.deep.equal([
        { mountPath: HUNG, export: 'reg:7861/hung', fsType: 'fuse.quobyte', health: 'unresponsive', reason: 'unresponsive', attachments: [], problems: ['unresponsive', 'orphaned'] },
        { mountPath: STALE, export: 'reg:7861/stale', fsType: 'fuse.quobyte', health: 'stale', reason: 'not-connected', attachments: [`${INSTANCE}/volume-stale`], problems: ['stale'] },
        { mountPath: GONE, export: null, fsType: null, health: 'absent', attachments: [`${INSTANCE}/volume-gone`], problems: ['not-mounted'] },
        { mountPath: MOUNT_PATH, export: NORMALISED, fsType: 'fuse.quobyte', health: 'healthy', attachments: [`${INSTANCE}/${NAME}`, `${OTHER_INSTANCE}/${NAME}`], problems: [] },
        { mountPath: SCRATCH, export: 'tmpfs', fsType: 'tmpfs', health: 'foreign', attachments: [], problems: ['foreign'] },
      ]);
    });

    it('changes nothing: no command, no directory, no write to the store', async () => {
      const store = new FileAttachmentStore(state);
      const before = await store.entries();
      await status();
      await status('--json');
      expect(host.runner.run.called).to.be.false;
      expect(host.probe.removeDirectory.called).to.be.false;
      expect(host.aborted).to.be.empty;
      expect(await store.entries()).to.deep.equal(before);
    });
  });

  it('shows a mount whose root has a size as stale (nonzero-size)', async () => {
    host.addQuobyteMount(STALE, 'quobyte@reg:7861/stale');
    host.stats.set(STALE, { size: 4096, mode: 0o40755, uid: 0, gid: 0, isFile: false, isDirectory: true, isSymbolicLink: false, dev: 5 });
    const [row] = JSON.parse((await status('--json')).stdout) as Array<Record<string, unknown>>;
    expect(row).to.include({ health: 'stale', reason: 'nonzero-size' });
  });

  it('shows a mount it cannot check as unknown, with the errno, and exits 3', async () => {
    host.addQuobyteMount(STALE, 'quobyte@reg:7861/stale');
    host.stats.set(STALE, { errno: 'EACCES' });
    const result = await status();
    expect(result.exitCode).to.equal(3);
    expect(result.stdout.split('\n')[1]).to.equal(`${STALE}  reg:7861/stale  unknown (EACCES)  -`);
  });

  it('finds the mounts under a base reached through a symbolic link', async () => {
    host.probe.realPath = sinon.spy((path: string) => Promise.resolve(path === BASE ? '/data/mnt' : path));
    host.addQuobyteMount('/data/mnt/c94ed34ada0acf45c1213beb1fc52ce6', `quobyte@${NORMALISED}`);
    host.stats.set(MOUNT_PATH, host.stats.get('/data/mnt/c94ed34ada0acf45c1213beb1fc52ce6')!);
    const [row] = JSON.parse((await status('--json')).stdout) as Array<Record<string, unknown>>;
    expect(row).to.deep.equal({ mountPath: MOUNT_PATH, export: NORMALISED, fsType: 'fuse.quobyte', health: 'healthy', attachments: [], problems: ['orphaned'] });
  });

  it('shows the top mount where two are stacked', async () => {
    host.mounts.push({ mountPoint: MOUNT_PATH, source: 'tmpfs', fsType: 'tmpfs', options: ['rw'] });
    host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
    const rows = JSON.parse((await status('--json')).stdout) as Array<Record<string, unknown>>;
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ health: 'healthy', fsType: 'fuse.quobyte' });
  });

  describe('base and store from the environment', () => {
    it('uses LIBVIRT_VOLUME_MOUNT_BASE and LIBVIRT_VOLUME_STATE', async () => {
      const base = '/srv/quobyte';
      host.directories.add(base);
      const mountPath = mountPathOf(base, NORMALISED);
      host.addQuobyteMount(mountPath, `quobyte@${NORMALISED}`);
      host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
      await new FileAttachmentStore(`${dir}/env.json`).add(mountPath, `${INSTANCE}/${NAME}`);
      const result = await runCaptured(['status', '--json'], onHost(host, { env: { LIBVIRT_VOLUME_MOUNT_BASE: base, LIBVIRT_VOLUME_STATE: `${dir}/env.json` } }));
      expect(JSON.parse(result.stdout)).to.deep.equal([
        { mountPath, export: NORMALISED, fsType: 'fuse.quobyte', health: 'healthy', attachments: [`${INSTANCE}/${NAME}`], problems: [] },
      ]);
    });

    it('reads the store at <base>/.libvirt-volume-attachments.json by default', async () => {
      const mountPath = mountPathOf(dir, NORMALISED);
      await new FileAttachmentStore(`${dir}/.libvirt-volume-attachments.json`).add(mountPath, `${INSTANCE}/${NAME}`);
      const result = await runCaptured(['status', '--json'], onHost(host, { env: { LIBVIRT_VOLUME_MOUNT_BASE: dir } }));
      expect(JSON.parse(result.stdout)).to.deep.equal([{ mountPath, export: null, fsType: null, health: 'absent', attachments: [`${INSTANCE}/${NAME}`], problems: ['not-mounted'] }]);
    });

    it('prefers --base and --state to the environment', async () => {
      host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
      await new FileAttachmentStore(state).add(MOUNT_PATH, `${INSTANCE}/${NAME}`);
      const result = await runCaptured(['status', '--json', '--base', BASE, '--state', state], onHost(host, { env: { LIBVIRT_VOLUME_MOUNT_BASE: '/srv/quobyte', LIBVIRT_VOLUME_STATE: `${dir}/none.json` } }));
      expect(JSON.parse(result.stdout)).to.deep.equal([
        { mountPath: MOUNT_PATH, export: NORMALISED, fsType: 'fuse.quobyte', health: 'healthy', attachments: [`${INSTANCE}/${NAME}`], problems: [] },
      ]);
    });
  });

  it('reports a corrupt store in one line with exit 1, leaving it as it is', async () => {
    writeFileSync(state, '{ not json');
    const result = await status();
    expect(result).to.deep.equal({
      exitCode: 1,
      stdout: '',
      stderr: `libvirt-volume: ERR_ATTACHMENT_STORE: The attachment store ${state} is corrupt (not JSON); it was left as it is\n`,
    });
  });
});
