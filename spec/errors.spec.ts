import { expect } from 'chai';
import type { Command } from '../lib/commands/command-runner.js';
import {
  CommandFailedError,
  CommandNotFoundError,
  CommandTimeoutError,
  InvalidConnectionInfoError,
  InvalidVolumeError,
  StaleVolumeMountError,
  VolumeDriverError,
  VolumeMountError,
  VolumeUnmountError,
} from '../lib/errors.js';
import * as packageRoot from '../lib/index.js';

const MOUNT_PATH = '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6';
const UMOUNT: Command = { file: 'umount', args: [MOUNT_PATH] };

/** One instance of every class, with the code the design table gives it. */
const CASES: ReadonlyArray<{ error: VolumeDriverError; name: string; code: string }> = [
  { error: new InvalidConnectionInfoError('data.name', 'must not be ".."'), name: 'InvalidConnectionInfoError', code: 'ERR_INVALID_CONNECTION_INFO' },
  { error: new InvalidVolumeError(MOUNT_PATH, 'not a Quobyte mount'), name: 'InvalidVolumeError', code: 'ERR_INVALID_VOLUME' },
  { error: new StaleVolumeMountError(MOUNT_PATH, 'not-connected'), name: 'StaleVolumeMountError', code: 'ERR_STALE_VOLUME_MOUNT' },
  { error: new VolumeMountError(MOUNT_PATH, 'mount failed'), name: 'VolumeMountError', code: 'ERR_VOLUME_MOUNT' },
  { error: new VolumeUnmountError(MOUNT_PATH, 'umount failed'), name: 'VolumeUnmountError', code: 'ERR_VOLUME_UNMOUNT' },
  { error: new CommandFailedError({ command: UMOUNT, exitCode: 32, stdout: '', stderr: '' }), name: 'CommandFailedError', code: 'ERR_COMMAND_FAILED' },
  { error: new CommandTimeoutError({ command: UMOUNT, timeoutMs: 1000 }), name: 'CommandTimeoutError', code: 'ERR_COMMAND_TIMEOUT' },
  { error: new CommandNotFoundError(UMOUNT), name: 'CommandNotFoundError', code: 'ERR_COMMAND_NOT_FOUND' },
];

describe('errors', () => {
  for (const { error, name, code } of CASES) {
    describe(name, () => {
      it(`has code ${code}`, () => {
        expect(error.code).to.equal(code);
      });

      it(`is named ${name}, in its stack too`, () => {
        expect(error.name).to.equal(name);
        expect(String(error)).to.match(new RegExp(`^${name}: `));
        expect(error.stack).to.match(new RegExp(`^${name}: `));
      });

      it('is an instance of VolumeDriverError and Error', () => {
        expect(error).to.be.instanceOf(VolumeDriverError);
        expect(error).to.be.instanceOf(Error);
      });

      it('has no cause when none was given', () => {
        expect('cause' in error).to.equal(false);
      });

      it('is exported from the package root as the same class', () => {
        expect((packageRoot as Record<string, unknown>)[name]).to.equal(error.constructor);
      });
    });
  }

  it('gives every class a different code', () => {
    expect(new Set(CASES.map((c) => c.code)).size).to.equal(CASES.length);
  });

  describe('cause', () => {
    it('is kept when given', () => {
      const errno = Object.assign(new Error('ENOTCONN: socket is not connected'), { code: 'ENOTCONN' });
      const stale = new StaleVolumeMountError(MOUNT_PATH, 'not-connected', { cause: errno });
      expect(stale.cause).to.equal(errno);
      const failed = new VolumeMountError(MOUNT_PATH, 'mount failed', { cause: stale });
      expect(failed.cause).to.equal(stale);
    });

    it('is kept on every class that takes options', () => {
      const cause = new Error('lower');
      const errors = [
        new InvalidConnectionInfoError('data', 'bad', { cause }),
        new InvalidVolumeError(MOUNT_PATH, 'x', { cause }),
        new VolumeUnmountError(MOUNT_PATH, 'x', { cause }),
        new CommandFailedError({ command: UMOUNT, exitCode: 1, stdout: '', stderr: '' }, { cause }),
        new CommandTimeoutError({ command: UMOUNT, timeoutMs: 1 }, { cause }),
        new CommandNotFoundError(UMOUNT, { cause }),
      ];
      for (const error of errors) expect(error.cause, error.name).to.equal(cause);
    });

    it('is kept even when the cause is not an error', () => {
      expect(new VolumeMountError(MOUNT_PATH, 'x', { cause: 'ENOENT' }).cause).to.equal('ENOENT');
    });
  });

  describe('InvalidConnectionInfoError', () => {
    it('names the field in a field and in the message', () => {
      const error = new InvalidConnectionInfoError('data.export', 'must not be empty');
      expect(error.field).to.equal('data.export');
      expect(error.message).to.equal('Invalid connection info: data.export must not be empty');
    });
  });

  describe('InvalidVolumeError', () => {
    it('keeps the mount path and the message', () => {
      const error = new InvalidVolumeError(MOUNT_PATH, 'The mount holds ext4');
      expect(error.mountPath).to.equal(MOUNT_PATH);
      expect(error.message).to.equal('The mount holds ext4');
    });
  });

  describe('StaleVolumeMountError', () => {
    it('is an InvalidVolumeError with its own code', () => {
      const error = new StaleVolumeMountError(MOUNT_PATH, 'unresponsive');
      expect(error).to.be.instanceOf(InvalidVolumeError);
      expect(error.code).to.equal('ERR_STALE_VOLUME_MOUNT');
      expect(error.code).not.to.equal(new InvalidVolumeError(MOUNT_PATH, 'x').code);
      expect(error.name).to.equal('StaleVolumeMountError');
    });

    for (const reason of ['not-connected', 'nonzero-size', 'unresponsive'] as const) {
      it(`keeps the reason ${reason} and the mount path, and says both`, () => {
        const error = new StaleVolumeMountError(MOUNT_PATH, reason);
        expect(error.reason).to.equal(reason);
        expect(error.mountPath).to.equal(MOUNT_PATH);
        expect(error.message).to.equal(`The mount ${MOUNT_PATH} is not a valid volume. Stale mount? (${reason})`);
      });
    }

    it('is not an InvalidVolumeError the other way round', () => {
      expect(new InvalidVolumeError(MOUNT_PATH, 'x')).not.to.be.instanceOf(StaleVolumeMountError);
    });
  });

  describe('VolumeMountError and VolumeUnmountError', () => {
    it('keep the mount path and the message', () => {
      const mount = new VolumeMountError(MOUNT_PATH, 'mount.quobyte failed');
      const umount = new VolumeUnmountError(MOUNT_PATH, 'umount failed');
      expect([mount.mountPath, mount.message]).to.deep.equal([MOUNT_PATH, 'mount.quobyte failed']);
      expect([umount.mountPath, umount.message]).to.deep.equal([MOUNT_PATH, 'umount failed']);
      expect(mount).not.to.be.instanceOf(InvalidVolumeError);
    });
  });

  describe('CommandFailedError', () => {
    it('carries command, exitCode, stdout and stderr', () => {
      const error = new CommandFailedError({ command: UMOUNT, exitCode: 32, stdout: 'out\n', stderr: 'umount: target is busy.\n' });
      expect(error.command).to.deep.equal(UMOUNT);
      expect(error.exitCode).to.equal(32);
      expect(error.signal).to.equal(undefined);
      expect(error.stdout).to.equal('out\n');
      expect(error.stderr).to.equal('umount: target is busy.\n');
    });

    it('says the exit code and the argv, then the trimmed stderr on its own line', () => {
      const error = new CommandFailedError({ command: UMOUNT, exitCode: 32, stdout: '', stderr: '  umount: target is busy.\n' });
      expect(error.message).to.equal(`Command failed with exit code 32: umount ${MOUNT_PATH}\numount: target is busy.`);
    });

    it('has no stderr tail when stderr is empty or blank', () => {
      expect(new CommandFailedError({ command: UMOUNT, exitCode: 1, stdout: 'x', stderr: '' }).message).to.equal(`Command failed with exit code 1: umount ${MOUNT_PATH}`);
      expect(new CommandFailedError({ command: UMOUNT, exitCode: 1, stdout: '', stderr: ' \n\t' }).message).to.equal(`Command failed with exit code 1: umount ${MOUNT_PATH}`);
    });

    it('says the signal instead of the exit code when killed by one', () => {
      const error = new CommandFailedError({ command: UMOUNT, exitCode: -1, signal: 'SIGKILL', stdout: '', stderr: '' });
      expect(error.signal).to.equal('SIGKILL');
      expect(error.message).to.equal(`Command failed with signal SIGKILL: umount ${MOUNT_PATH}`);
    });

    it('writes a command without arguments as the program alone', () => {
      expect(new CommandFailedError({ command: { file: 'sync', args: [] }, exitCode: 2, stdout: '', stderr: '' }).message).to.equal(
        'Command failed with exit code 2: sync',
      );
    });
  });

  describe('CommandTimeoutError', () => {
    it('carries command, timeoutMs and any output, and says both in the message', () => {
      const error = new CommandTimeoutError({ command: UMOUNT, timeoutMs: 30000, stdout: 'a', stderr: 'b' });
      expect(error.command).to.deep.equal(UMOUNT);
      expect(error.timeoutMs).to.equal(30000);
      expect([error.stdout, error.stderr]).to.deep.equal(['a', 'b']);
      expect(error.message).to.equal(`Command timed out after 30000 milliseconds: umount ${MOUNT_PATH}`);
    });

    it('has empty output when none was given', () => {
      const error = new CommandTimeoutError({ command: UMOUNT, timeoutMs: 1 });
      expect([error.stdout, error.stderr]).to.deep.equal(['', '']);
    });
  });

  describe('CommandNotFoundError', () => {
    it('carries the command and names the program', () => {
      const command = { file: 'mount.quobyte', args: ['--disable-xattrs', '192.168.1.1/volume-00001', MOUNT_PATH] };
      const error = new CommandNotFoundError(command);
      expect(error.command).to.deep.equal(command);
      expect(error.message).to.equal('Command not found: mount.quobyte');
    });
  });
});
