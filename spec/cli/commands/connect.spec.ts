import { existsSync } from 'node:fs';
import { expect } from 'chai';
import type { FakeHost } from '../../support/fake-host.js';
import {
  EXPORT,
  INSTANCE,
  MOUNT_PATH,
  NAME,
  NORMALISED,
  OTHER_INSTANCE,
  attachArgs,
  mountPathOf,
  onHost,
  readStore,
  snapshotStore,
  runCaptured,
  useCliFixture,
} from '../cli-harness.js';

const MOUNT = `mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}`;

describe('libvirt-volume connect', () => {
  const fixture = useCliFixture();
  let host: FakeHost;
  let dir: string;
  let state: string;

  beforeEach(() => {
    ({ host, dir, state } = fixture);
  });

  it('mounts an absent export, records the attachment and prints the device path', async () => {
    const result = await runCaptured(attachArgs('connect', state), onHost(host));
    expect(result).to.deep.equal({ exitCode: 0, stderr: '', stdout: `mounted ${MOUNT_PATH}, device ${MOUNT_PATH}/${NAME}\n` });
    expect(host.argv).to.deep.equal([MOUNT]);
    expect(host.directories.has(MOUNT_PATH)).to.be.true;
    expect(host.mounts.map((entry) => entry.mountPoint)).to.deep.equal([MOUNT_PATH]);
    expect(readStore(state)).to.deep.equal({ [MOUNT_PATH]: [`${INSTANCE}/${NAME}`] });
  });

  it('names the attachment by volume id, else serial, as the library does', async () => {
    await runCaptured([...attachArgs('connect', state), '--volume-id', 'vol-1', '--serial', 'ser-1'], onHost(host));
    await runCaptured([...attachArgs('connect', state, OTHER_INSTANCE), '--serial', 'ser-1'], onHost(host));
    expect(readStore(state)).to.deep.equal({ [MOUNT_PATH]: [`${INSTANCE}/vol-1`, `${OTHER_INSTANCE}/ser-1`] });
  });

  it('passes --cfg to mount.quobyte as -c', async () => {
    await runCaptured([...attachArgs('connect', state), '--cfg', '/etc/quobyte/client.cfg'], onHost(host));
    expect(host.argv).to.deep.equal([`${MOUNT} -c /etc/quobyte/client.cfg`]);
  });

  it('mounts in a systemd scope where systemd runs', async () => {
    await runCaptured(attachArgs('connect', state), onHost(host, { systemd: true }));
    expect(host.argv).to.deep.equal([`systemd-run --scope ${MOUNT}`]);
  });

  it('reuses a healthy mount without running anything', async () => {
    host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
    const result = await runCaptured(attachArgs('connect', state), onHost(host));
    expect(result).to.deep.equal({ exitCode: 0, stderr: '', stdout: `reused ${MOUNT_PATH}, device ${MOUNT_PATH}/${NAME}\n` });
    expect(host.runner.run.called).to.be.false;
    expect(readStore(state)).to.deep.equal({ [MOUNT_PATH]: [`${INSTANCE}/${NAME}`] });
  });

  it('remounts a stale mount (ENOTCONN)', async () => {
    host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
    host.stats.set(MOUNT_PATH, { errno: 'ENOTCONN' });
    const result = await runCaptured(attachArgs('connect', state), onHost(host));
    expect(result.stdout).to.equal(`remounted ${MOUNT_PATH} (was stale: not-connected), device ${MOUNT_PATH}/${NAME}\n`);
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${MOUNT_PATH}`, MOUNT]);
  });

  it('refuses to mount over another file system (exit 1)', async () => {
    host.mounts.push({ mountPoint: MOUNT_PATH, source: 'tmpfs', fsType: 'tmpfs', options: ['rw'] });
    const result = await runCaptured(attachArgs('connect', state), onHost(host));
    expect(result).to.deep.equal({
      exitCode: 1,
      stdout: '',
      stderr: `libvirt-volume: ERR_INVALID_VOLUME: The mount ${MOUNT_PATH} holds another file system (tmpfs from tmpfs); refusing to mount over it\n`,
    });
    expect(host.runner.run.called).to.be.false;
    expect(existsSync(state)).to.be.false;
  });

  describe('hostile input', () => {
    const cases: Array<{ title: string; change: (args: string[]) => string[]; line: string }> = [
      {
        title: '--name ../x',
        change: (args) => args.map((arg) => (arg === NAME ? '../x' : arg)),
        line: 'libvirt-volume: ERR_INVALID_CONNECTION_INFO: Invalid connection info: data.name must be a single path component (no "/")\n',
      },
      {
        title: '--export -o/x',
        change: (args) => args.map((arg) => (arg === EXPORT ? '-o/x' : arg)),
        line: 'libvirt-volume: ERR_INVALID_CONNECTION_INFO: Invalid connection info: data.export must look like host[:port][,host[:port]...]/volume, got "-o/x"\n',
      },
      {
        title: '--instance ../evil',
        change: (args) => args.map((arg) => (arg === INSTANCE ? '../evil' : arg)),
        line: 'libvirt-volume: ERR_INVALID_CONNECTION_INFO: Invalid connection info: instance.uuid must be a single path component (no "/")\n',
      },
    ];
    for (const { title, change, line } of cases) {
      for (const dryRun of [false, true]) {
        it(`refuses ${title}${dryRun ? ' with --dry-run' : ''}: one line, exit 1, nothing run, created or written`, async () => {
          const argv = change(attachArgs('connect', state));
          const result = await runCaptured(dryRun ? [...argv, '--dry-run'] : argv, onHost(host));
          expect(result).to.deep.equal({ exitCode: 1, stdout: '', stderr: line });
          expect(host.runner.run.called).to.be.false;
          expect(host.probe.ensureDirectory.called).to.be.false;
          expect(existsSync(state)).to.be.false;
        });
      }
    }
  });

  describe('where the attachments are kept', () => {
    it('uses LIBVIRT_VOLUME_STATE when --state is not given', async () => {
      const fromEnv = `${dir}/from-env.json`;
      const argv = attachArgs('connect', state).slice(0, -2);
      await runCaptured(argv, onHost(host, { env: { LIBVIRT_VOLUME_STATE: fromEnv } }));
      expect(readStore(fromEnv)).to.deep.equal({ [MOUNT_PATH]: [`${INSTANCE}/${NAME}`] });
    });

    it('uses --state before LIBVIRT_VOLUME_STATE', async () => {
      await runCaptured(attachArgs('connect', state), onHost(host, { env: { LIBVIRT_VOLUME_STATE: `${dir}/from-env.json` } }));
      expect(existsSync(`${state}.d`)).to.be.true;
      expect(existsSync(`${dir}/from-env.json.d`)).to.be.false;
    });

    it('defaults to <base>/.libvirt-volume-attachments.json, the base from LIBVIRT_VOLUME_MOUNT_BASE', async () => {
      const mountPath = mountPathOf(dir, NORMALISED);
      const result = await runCaptured(['connect', '--export', EXPORT, '--name', NAME, '--instance', INSTANCE], onHost(host, { env: { LIBVIRT_VOLUME_MOUNT_BASE: dir } }));
      expect(result.stdout).to.equal(`mounted ${mountPath}, device ${mountPath}/${NAME}\n`);
      expect(host.argv).to.deep.equal([`mount.quobyte --disable-xattrs ${NORMALISED} ${mountPath}`]);
      expect(readStore(`${dir}/.libvirt-volume-attachments.json`)).to.deep.equal({ [mountPath]: [`${INSTANCE}/${NAME}`] });
    });
  });

  describe('--dry-run', () => {
    function expectNothingDone(): void {
      expect(host.runner.run.called, 'runner called').to.be.false;
      expect(host.probe.ensureDirectory.called, 'directory created').to.be.false;
      expect(host.probe.removeDirectory.called, 'directory removed').to.be.false;
      expect(existsSync(state), 'store written').to.be.false;
    }

    it('prints directory, mount and attachment for an absent mount, and does none of it', async () => {
      const result = await runCaptured([...attachArgs('connect', state), '--dry-run'], onHost(host));
      expect(result).to.deep.equal({
        exitCode: 0,
        stderr: '',
        stdout: [
          `would create directory: ${MOUNT_PATH}`,
          `would run: ${MOUNT}`,
          `would record attachment: ${INSTANCE}/${NAME} on ${MOUNT_PATH}`,
          '',
        ].join('\n'),
      });
      expectNothingDone();
      expect(host.mounts).to.be.empty;
    });

    it('checks the directory when it is already there (a link planted there is refused before the mount)', async () => {
      host.directories.add(MOUNT_PATH);
      const result = await runCaptured([...attachArgs('connect', state), '--dry-run'], onHost(host));
      expect(result.stdout.split('\n').slice(0, 2)).to.deep.equal([`would check directory (no link, ours): ${MOUNT_PATH}`, `would run: ${MOUNT}`]);
      expectNothingDone();
    });

    it('prints the systemd scope and the client configuration as they would run', async () => {
      const result = await runCaptured([...attachArgs('connect', state), '--cfg', '/etc/quobyte/my client.cfg', '--dry-run'], onHost(host, { systemd: true }));
      expect(result.stdout.split('\n')[1]).to.equal(`would run: systemd-run --scope ${MOUNT} -c '/etc/quobyte/my client.cfg'`);
      expectNothingDone();
    });

    it('prints unmount then mount for a stale mount (ENOTCONN)', async () => {
      host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
      host.stats.set(MOUNT_PATH, { errno: 'ENOTCONN' });
      const result = await runCaptured([...attachArgs('connect', state), '--dry-run'], onHost(host));
      expect(result.stdout).to.equal(
        [
          `would run: umount --no-canonicalize ${MOUNT_PATH} (if it fails: umount -l --no-canonicalize ${MOUNT_PATH})`,
          `would run: ${MOUNT}`,
          `would record attachment: ${INSTANCE}/${NAME} on ${MOUNT_PATH}`,
          '',
        ].join('\n'),
      );
      expectNothingDone();
      expect(host.isMounted(MOUNT_PATH)).to.be.true;
    });

    it('prints the FUSE abort and a lazy unmount for a hung mount nobody uses (ETIMEDOUT)', async () => {
      const { device = '' } = host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
      host.stats.set(MOUNT_PATH, { errno: 'ETIMEDOUT' });
      const result = await runCaptured([...attachArgs('connect', state), '--dry-run'], onHost(host));
      expect(result.stdout.split('\n').slice(0, 3)).to.deep.equal([
        `would abort the FUSE connection ${device.slice(2)} of ${MOUNT_PATH} (mounting fusectl first where it is missing)`,
        `would run: umount -l --no-canonicalize ${MOUNT_PATH}`,
        `would run: ${MOUNT}`,
      ]);
      expectNothingDone();
      expect(host.aborted).to.be.empty;
    });

    it('prints that nothing runs for a healthy mount', async () => {
      host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
      const result = await runCaptured([...attachArgs('connect', state), '--dry-run'], onHost(host));
      expect(result.stdout).to.equal(
        [`nothing to run: ${MOUNT_PATH} is mounted and healthy`, `would record attachment: ${INSTANCE}/${NAME} on ${MOUNT_PATH}`, ''].join('\n'),
      );
      expectNothingDone();
    });

    it('does not repeat an attachment already recorded, and leaves the store file alone', async () => {
      await runCaptured(attachArgs('connect', state), onHost(host));
      const before = snapshotStore(state);
      expect(before).to.have.length.above(2);
      host.runner.run.resetHistory();
      const result = await runCaptured([...attachArgs('connect', state), '--dry-run'], onHost(host));
      expect(result.stdout).to.equal(`nothing to run: ${MOUNT_PATH} is mounted and healthy\n`);
      expect(host.runner.run.called).to.be.false;
      expect(snapshotStore(state)).to.deep.equal(before);
    });

    it('fails as connect would for another file system', async () => {
      host.mounts.push({ mountPoint: MOUNT_PATH, source: 'tmpfs', fsType: 'tmpfs', options: ['rw'] });
      const result = await runCaptured([...attachArgs('connect', state), '--dry-run'], onHost(host));
      expect(result.exitCode).to.equal(1);
      expect(result.stderr).to.match(/^libvirt-volume: ERR_INVALID_VOLUME: The mount \S+ holds another file system \(tmpfs from tmpfs\); refusing to mount over it\n$/);
      expectNothingDone();
    });
  });

  it('prefers --base to LIBVIRT_VOLUME_MOUNT_BASE', async () => {
    const result = await runCaptured(attachArgs('connect', state), onHost(host, { env: { LIBVIRT_VOLUME_MOUNT_BASE: '/elsewhere' } }));
    expect(result.stdout).to.equal(`mounted ${MOUNT_PATH}, device ${MOUNT_PATH}/${NAME}\n`);
  });
});
