import { expect } from 'chai';
import type { FakeHost } from '../../support/fake-host.js';
import {
  INSTANCE,
  MOUNT_PATH,
  NAME,
  NORMALISED,
  OTHER_INSTANCE,
  attachArgs,
  onHost,
  readStore,
  snapshotStore,
  runCaptured,
  useCliFixture,
} from '../cli-harness.js';

describe('libvirt-volume disconnect', () => {
  const fixture = useCliFixture();
  let host: FakeHost;
  let state: string;

  beforeEach(() => {
    ({ host, state } = fixture);
  });

  async function connect(instance = INSTANCE): Promise<void> {
    const result = await runCaptured(attachArgs('connect', state, instance), onHost(host));
    expect(result.exitCode, result.stderr).to.equal(0);
    host.runner.run.resetHistory();
    host.commands.length = 0;
  }

  it('unmounts the last attachment, removes the directory and drops it from the store', async () => {
    await connect();
    const result = await runCaptured(attachArgs('disconnect', state), onHost(host));
    expect(result).to.deep.equal({ exitCode: 0, stderr: '', stdout: `unmounted ${MOUNT_PATH}\n` });
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${MOUNT_PATH}`]);
    expect(host.runner.run.firstCall.args[0]).to.deep.equal({ file: 'umount', args: ['--no-canonicalize', MOUNT_PATH] });
    expect(host.mounts).to.be.empty;
    expect(host.directories.has(MOUNT_PATH)).to.be.false;
    expect(readStore(state)).to.deep.equal({});
  });

  it('keeps the mount while another guest uses it (in-use)', async () => {
    await connect();
    await connect(OTHER_INSTANCE);
    const result = await runCaptured(attachArgs('disconnect', state), onHost(host));
    expect(result).to.deep.equal({ exitCode: 0, stderr: '', stdout: `in-use ${MOUNT_PATH}\n` });
    expect(host.runner.run.called).to.be.false;
    expect(host.isMounted(MOUNT_PATH)).to.be.true;
    expect(readStore(state)).to.deep.equal({ [MOUNT_PATH]: [`${OTHER_INSTANCE}/${NAME}`] });
  });

  it('reports not-mounted when nothing is mounted', async () => {
    const result = await runCaptured(attachArgs('disconnect', state), onHost(host));
    expect(result).to.deep.equal({ exitCode: 0, stderr: '', stdout: `not-mounted ${MOUNT_PATH}\n` });
    expect(host.runner.run.called).to.be.false;
  });

  it('reports busy, with its own exit status 5, when the share is still open', async () => {
    await connect();
    host.busy.add(MOUNT_PATH);
    const result = await runCaptured(attachArgs('disconnect', state), onHost(host));
    expect(result).to.deep.equal({ exitCode: 5, stderr: '', stdout: `busy ${MOUNT_PATH}\n` });
    expect(host.isMounted(MOUNT_PATH)).to.be.true;
  });

  it('documents exit status 5 in its --help', async () => {
    const { stdout } = await runCaptured(['disconnect', '--help']);
    expect(stdout).to.match(/^5 busy: the attachment was dropped but the share is busy and stays mounted\.$/m);
  });

  it('refuses hostile input in one line with exit 1, running nothing', async () => {
    await connect();
    const result = await runCaptured(attachArgs('disconnect', state).map((arg) => (arg === NAME ? '../x' : arg)), onHost(host));
    expect(result).to.deep.equal({
      exitCode: 1,
      stdout: '',
      stderr: 'libvirt-volume: ERR_INVALID_CONNECTION_INFO: Invalid connection info: data.name must be a single path component (no "/")\n',
    });
    expect(host.runner.run.called).to.be.false;
    expect(host.isMounted(MOUNT_PATH)).to.be.true;
  });

  describe('--dry-run', () => {
    let storeBefore: string[] | undefined;

    async function dryRun(instance = INSTANCE): Promise<string> {
      storeBefore = snapshotStore(state);
      const result = await runCaptured([...attachArgs('disconnect', state, instance), '--dry-run'], onHost(host));
      expect(result.exitCode, result.stderr).to.equal(0);
      expect(result.stderr).to.equal('');
      return result.stdout;
    }

    function expectNothingDone(): void {
      expect(host.runner.run.called, 'runner called').to.be.false;
      expect(host.probe.removeDirectory.called, 'directory removed').to.be.false;
      expect(host.probe.ensureDirectory.called, 'directory created').to.be.false;
      expect(snapshotStore(state), 'store written').to.deep.equal(storeBefore);
    }

    it('prints the unmount and the directory removal for the last attachment, and does neither', async () => {
      await connect();
      host.probe.ensureDirectory.resetHistory();
      const stdout = await dryRun();
      expect(stdout).to.equal(
        [
          `would remove attachment: ${INSTANCE}/${NAME} from ${MOUNT_PATH}`,
          `would run: umount --no-canonicalize ${MOUNT_PATH}`,
          `would remove directory: ${MOUNT_PATH}`,
          '',
        ].join('\n'),
      );
      expectNothingDone();
      expect(host.isMounted(MOUNT_PATH)).to.be.true;
    });

    it('prints that nothing runs while other attachments remain', async () => {
      await connect();
      await connect(OTHER_INSTANCE);
      host.probe.ensureDirectory.resetHistory();
      const stdout = await dryRun();
      expect(stdout).to.equal(
        [`would remove attachment: ${INSTANCE}/${NAME} from ${MOUNT_PATH}`, `nothing to run: ${MOUNT_PATH} is still in use by 1 other attachment`, ''].join('\n'),
      );
      expectNothingDone();
    });

    it('prints a plain unmount for a stale mount (ENOTCONN) and the FUSE abort with a lazy one for a hung mount (ETIMEDOUT)', async () => {
      host.addQuobyteMount(MOUNT_PATH, `quobyte@${NORMALISED}`);
      host.stats.set(MOUNT_PATH, { errno: 'ENOTCONN' });
      expect(await dryRun()).to.equal(
        [`would run: umount --no-canonicalize ${MOUNT_PATH} (if it fails: umount -l --no-canonicalize ${MOUNT_PATH})`, `would remove directory: ${MOUNT_PATH}`, ''].join('\n'),
      );
      host.stats.set(MOUNT_PATH, { errno: 'ETIMEDOUT' });
      const minor = (host.mounts[0]?.device ?? '').slice(2);
      expect(await dryRun()).to.equal(
        [
          `would abort the FUSE connection ${minor} of ${MOUNT_PATH} (mounting fusectl first where it is missing)`,
          `would run: umount -l --no-canonicalize ${MOUNT_PATH}`,
          `would remove directory: ${MOUNT_PATH}`,
          '',
        ].join('\n'),
      );
      expectNothingDone();
      expect(host.aborted).to.be.empty;
    });

    it('prints that nothing is mounted, and the left-over directory it would remove', async () => {
      expect(await dryRun()).to.equal(`nothing to run: nothing is mounted at ${MOUNT_PATH}\n`);
      host.directories.add(MOUNT_PATH);
      expect(await dryRun()).to.equal([`nothing to run: nothing is mounted at ${MOUNT_PATH}`, `would remove directory: ${MOUNT_PATH}`, ''].join('\n'));
      expectNothingDone();
    });

    it('prints that another file system is left alone', async () => {
      host.mounts.push({ mountPoint: MOUNT_PATH, source: 'tmpfs', fsType: 'tmpfs', options: ['rw'] });
      expect(await dryRun()).to.equal(`nothing to run: ${MOUNT_PATH} holds another file system (tmpfs); it is left alone\n`);
      expectNothingDone();
    });
  });
});
