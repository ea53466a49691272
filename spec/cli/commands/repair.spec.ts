import { expect } from 'chai';
import type { FakeHost } from '../../support/fake-host.js';
import { BASE, EXPORT, INSTANCE, MOUNT_PATH, NAME, NORMALISED, attachArgs, onHost, readStore, runCaptured, snapshotStore, useCliFixture } from '../cli-harness.js';

describe('libvirt-volume repair', () => {
  const fixture = useCliFixture();
  let host: FakeHost;
  let state: string;

  beforeEach(() => {
    ({ host, state } = fixture);
  });

  function repair(...extra: string[]): ReturnType<typeof runCaptured> {
    return runCaptured(['repair', '--export', EXPORT, '--name', NAME, '--base', BASE, '--state', state, ...extra], onHost(host));
  }

  /** One guest attached on a mount that then goes stale or hung; the commands so far forgotten. */
  async function attachedThen(stat: 'ENOTCONN' | 'ETIMEDOUT'): Promise<number> {
    expect((await runCaptured(attachArgs('connect', state), onHost(host))).exitCode).to.equal(0);
    host.stats.set(MOUNT_PATH, { errno: stat });
    host.commands.length = 0;
    return Number(host.mounts[0]?.device?.split(':')[1]);
  }

  const mountArgv = `mount.quobyte --disable-xattrs ${NORMALISED} ${MOUNT_PATH}`;

  it('unmounts and mounts again a stale mount in use, recording nothing', async () => {
    await attachedThen('ENOTCONN');
    const before = readStore(state);
    expect(await repair()).to.deep.equal({ exitCode: 0, stderr: '', stdout: `repaired ${MOUNT_PATH} (was stale: not-connected)\n` });
    expect(host.argv).to.deep.equal([`umount --no-canonicalize ${MOUNT_PATH}`, mountArgv]);
    expect(host.mounts.map((entry) => entry.mountPoint)).to.deep.equal([MOUNT_PATH]);
    expect(readStore(state)).to.deep.equal(before);
  });

  it('refuses a hung mount in use with exit status 6, says what --force does, and runs nothing', async () => {
    const minor = await attachedThen('ETIMEDOUT');
    const result = await repair();
    expect(result.exitCode).to.equal(6);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.match(/^libvirt-volume: ERR_VOLUME_UNRESPONSIVE: The mount \S+ did not answer in time and is in use \(1 attachment\(s\) recorded\); it was left alone\. Forcing the repair \(--force\) aborts its FUSE connection and mounts it again: guests on the old mount lose their disk: every I\/O on it fails with ENOTCONN or ECONNABORTED\n$/);
    expect(host.commands).to.deep.equal([]);
    expect(host.aborted).to.not.include(minor);
    expect(host.isMounted(MOUNT_PATH)).to.equal(true);
  });

  it('with --force aborts the hung mount\'s FUSE connection, detaches it lazily and mounts again', async () => {
    const minor = await attachedThen('ETIMEDOUT');
    host.openFiles.set(MOUNT_PATH, 2);
    expect(await repair('--force')).to.deep.equal({ exitCode: 0, stderr: '', stdout: `repaired ${MOUNT_PATH} (was stale: unresponsive)\n` });
    expect(host.aborted).to.deep.equal([minor]);
    expect(host.argv).to.deep.equal([`umount -l --no-canonicalize ${MOUNT_PATH}`, mountArgv]);
    expect(readStore(state)).to.deep.equal({ [MOUNT_PATH]: [`${INSTANCE}/${NAME}`] });
  });

  describe('--dry-run', () => {
    it('prints the plan of a stale mount\'s repair and changes nothing', async () => {
      await attachedThen('ENOTCONN');
      const snapshot = snapshotStore(state);
      expect(await repair('--dry-run')).to.deep.equal({
        exitCode: 0,
        stderr: '',
        stdout: `would run: umount --no-canonicalize ${MOUNT_PATH} (if it fails: umount -l --no-canonicalize ${MOUNT_PATH})\nwould run: ${mountArgv}\n`,
      });
      expect(host.commands).to.deep.equal([]);
      expect(snapshotStore(state)).to.deep.equal(snapshot);
    });

    it('refuses a hung mount in use as the repair would (exit 6), printing nothing', async () => {
      await attachedThen('ETIMEDOUT');
      const result = await repair('--dry-run');
      expect(result.exitCode).to.equal(6);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.match(/ERR_VOLUME_UNRESPONSIVE/);
    });

    it('with --force prints the abort, the lazy unmount and the mount', async () => {
      const minor = await attachedThen('ETIMEDOUT');
      expect((await repair('--dry-run', '--force')).stdout).to.equal(
        `would abort the FUSE connection ${minor} of ${MOUNT_PATH} (mounting fusectl first where it is missing)\nwould run: umount -l --no-canonicalize ${MOUNT_PATH}\nwould run: ${mountArgv}\n`,
      );
      expect(host.commands).to.deep.equal([]);
      expect(host.aborted).to.deep.equal([]);
    });
  });

  it('leaves a healthy mount alone, and says so', async () => {
    expect((await runCaptured(attachArgs('connect', state), onHost(host))).exitCode).to.equal(0);
    host.commands.length = 0;
    expect(await repair('--force')).to.deep.equal({ exitCode: 0, stderr: '', stdout: `healthy ${MOUNT_PATH}: nothing to repair\n` });
    expect(host.commands).to.deep.equal([]);
  });

  it('mounts nothing where nothing is mounted', async () => {
    expect(await repair()).to.deep.equal({ exitCode: 0, stderr: '', stdout: `not-mounted ${MOUNT_PATH}: nothing to repair\n` });
    expect(host.commands).to.deep.equal([]);
    expect(host.mounts).to.deep.equal([]);
  });

  it('never touches a foreign file system at the mount path', async () => {
    host.mounts.push({ mountPoint: MOUNT_PATH, source: 'tmpfs', fsType: 'tmpfs', options: ['rw'] });
    const result = await repair('--force');
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.match(/^libvirt-volume: ERR_INVALID_VOLUME: .*holds another file system/);
    expect(host.commands).to.deep.equal([]);
  });

  it('refuses hostile input in one line with exit 1, running nothing', async () => {
    const result = await runCaptured(['repair', '--export', '-o/x', '--name', NAME, '--base', BASE, '--state', state, '--force'], onHost(host));
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.match(/^libvirt-volume: ERR_INVALID_CONNECTION_INFO: [^\n]*\n$/);
    expect(host.commands).to.deep.equal([]);
  });

  it('documents --force\'s consequence and exit status 6 in its --help', async () => {
    const { stdout } = await runCaptured(['repair', '--help']);
    expect(stdout.replaceAll('\n', ' ')).to.match(/--force aborts its FUSE connection.*lose\s+their disk: every I\/O on it fails with ENOTCONN or ECONNABORTED/);
    expect(stdout).to.match(/^ {2}6 {2}hung and in use: left alone \(ERR_VOLUME_UNRESPONSIVE\); --force repairs it$/m);
  });

  it('connect on a hung mount in use exits 6 as well (left alone)', async () => {
    await attachedThen('ETIMEDOUT');
    const result = await runCaptured(attachArgs('connect', state, '5d1f7e21-90a4-4a57-b3f8-4c7b7a9d3c02'), onHost(host));
    expect(result.exitCode).to.equal(6);
    expect(result.stderr).to.match(/^libvirt-volume: ERR_VOLUME_UNRESPONSIVE: /);
    expect(host.commands).to.deep.equal([]);
  });
});
