/**
 * The error codes as types: one literal per class, a union of them all, and a guard that
 * recognises this library's errors from another copy of the package.
 */
import { expect } from 'chai';
import {
  AttachmentStoreError,
  MountLockError,
  CommandFailedError,
  CommandNotFoundError,
  CommandTimeoutError,
  InsecureMountBaseError,
  InvalidConnectionInfoError,
  InvalidVolumeError,
  isVolumeDriverError,
  StaleVolumeMountError,
  UnsafeImageError,
  VOLUME_DRIVER_ERROR_CODES,
  VolumeDriverError,
  VolumeMountError,
  VolumeUnmountError,
  VolumeUnresponsiveError,
  type VolumeDriverErrorCode,
} from '../lib/errors.js';
import * as packageRoot from '../lib/index.js';

const MOUNT_PATH = '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6';
const UMOUNT = { file: 'umount', args: [MOUNT_PATH] };

/** One of each class; the compiler checks each `code` against its literal. */
function oneOfEach(): VolumeDriverError[] {
  const invalid: 'ERR_INVALID_CONNECTION_INFO' = new InvalidConnectionInfoError('data', 'x').code;
  const stale: 'ERR_STALE_VOLUME_MOUNT' = new StaleVolumeMountError(MOUNT_PATH, 'unresponsive').code;
  const unresponsive: 'ERR_VOLUME_UNRESPONSIVE' = new VolumeUnresponsiveError(MOUNT_PATH).code;
  const failed: 'ERR_COMMAND_FAILED' = new CommandFailedError({ command: UMOUNT, exitCode: 1, stdout: '', stderr: '' }).code;
  expect([invalid, stale, unresponsive, failed]).to.have.length(4);
  return [
    new InvalidConnectionInfoError('data', 'x'),
    new InvalidVolumeError(MOUNT_PATH, 'x'),
    new StaleVolumeMountError(MOUNT_PATH, 'not-connected'),
    new VolumeUnresponsiveError(MOUNT_PATH),
    new UnsafeImageError(MOUNT_PATH, `${MOUNT_PATH}/v`, 'x'),
    new InsecureMountBaseError('/mnt', 'x'),
    new VolumeMountError(MOUNT_PATH, 'x'),
    new VolumeUnmountError(MOUNT_PATH, 'x'),
    new CommandFailedError({ command: UMOUNT, exitCode: 1, stdout: '', stderr: '' }),
    new CommandTimeoutError({ command: UMOUNT, timeoutMs: 1 }),
    new CommandNotFoundError(UMOUNT),
    new AttachmentStoreError('/state.json', 'x'),
    new MountLockError('/state.json.d/.locks/x', 'x'),
  ];
}

/** What a caller writes: a switch the compiler proves exhaustive. */
function describeCode(error: VolumeDriverError): string {
  const code = error.code;
  switch (code) {
    case 'ERR_INVALID_CONNECTION_INFO':
    case 'ERR_INSECURE_MOUNT_BASE':
      return 'refused';
    case 'ERR_INVALID_VOLUME':
    case 'ERR_STALE_VOLUME_MOUNT':
    case 'ERR_VOLUME_UNRESPONSIVE':
    case 'ERR_UNSAFE_IMAGE':
      return 'volume';
    case 'ERR_VOLUME_MOUNT':
    case 'ERR_VOLUME_UNMOUNT':
      return 'mount';
    case 'ERR_COMMAND_FAILED':
    case 'ERR_COMMAND_TIMEOUT':
    case 'ERR_COMMAND_NOT_FOUND':
      return 'command';
    case 'ERR_ATTACHMENT_STORE':
    case 'ERR_MOUNT_LOCK':
      return 'store';
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}

describe('errors as types', () => {
  describe('VOLUME_DRIVER_ERROR_CODES', () => {
    it('holds the code of every class, each once', () => {
      const codes = oneOfEach().map((error) => error.code);
      expect([...VOLUME_DRIVER_ERROR_CODES].sort()).to.deep.equal([...new Set(codes)].sort());
      expect(codes).to.have.length(VOLUME_DRIVER_ERROR_CODES.length);
    });

    it('names every error class the package root exports', () => {
      const classes = (Object.values(packageRoot) as unknown[]).filter(
        (value): value is typeof VolumeDriverError => typeof value === 'function' && value.prototype instanceof VolumeDriverError,
      );
      const covered = new Set(oneOfEach().map((error) => error.constructor));
      expect(classes.filter((cls) => !covered.has(cls)).map((cls) => cls.name)).to.deep.equal([]);
    });

    it('is exported from the package root with the guard', () => {
      expect(packageRoot.VOLUME_DRIVER_ERROR_CODES).to.equal(VOLUME_DRIVER_ERROR_CODES);
      expect(packageRoot.isVolumeDriverError).to.equal(isVolumeDriverError);
    });
  });

  describe('a switch over error.code', () => {
    it('narrows to every code and reaches each branch', () => {
      expect(oneOfEach().map(describeCode)).to.deep.equal([
        'refused', 'volume', 'volume', 'volume', 'volume', 'refused', 'mount', 'mount', 'command', 'command', 'command', 'store', 'store',
      ]);
    });

    it('types InvalidVolumeError.code as its own code or a subclass code', () => {
      const codes: ReadonlyArray<InvalidVolumeError['code']> = ['ERR_INVALID_VOLUME', 'ERR_STALE_VOLUME_MOUNT', 'ERR_VOLUME_UNRESPONSIVE', 'ERR_UNSAFE_IMAGE'];
      // @ts-expect-error a code of another class is not an InvalidVolumeError code
      const wrong: InvalidVolumeError['code'] = 'ERR_VOLUME_MOUNT';
      const all: readonly VolumeDriverErrorCode[] = codes;
      expect(all).to.have.length(4);
      expect(wrong).to.equal('ERR_VOLUME_MOUNT');
    });
  });

  describe('isVolumeDriverError()', () => {
    it('is true for every error of this library', () => {
      for (const error of oneOfEach()) expect(isVolumeDriverError(error), error.name).to.equal(true);
    });

    it('is false for other errors, look-alikes and non-objects', () => {
      const lookAlike = Object.assign(new Error('x'), { code: 'ERR_VOLUME_MOUNT' });
      for (const value of [lookAlike, new TypeError('x'), { code: 'ERR_VOLUME_MOUNT' }, null, undefined, 'ERR_VOLUME_MOUNT', 42]) {
        expect(isVolumeDriverError(value), typeof value).to.equal(false);
      }
    });

    it("recognises another copy's errors, which instanceof does not", async () => {
      // A second instance of the module: what two copies of the package in node_modules give.
      const copy = (await import(`${new URL('../lib/errors.js', import.meta.url).href}?second-copy`)) as typeof import('../lib/errors.js');
      expect(copy.VolumeDriverError).not.to.equal(VolumeDriverError);
      const foreign = new copy.VolumeMountError(MOUNT_PATH, 'x');
      expect(foreign).not.to.be.instanceOf(VolumeDriverError);
      expect(isVolumeDriverError(foreign)).to.equal(true);
      expect(copy.isVolumeDriverError(new VolumeMountError(MOUNT_PATH, 'x'))).to.equal(true);
    });

    it('adds no own or enumerable property to an error', () => {
      const error = new VolumeMountError(MOUNT_PATH, 'x');
      expect(Object.getOwnPropertySymbols(error)).to.deep.equal([]);
      expect(JSON.parse(JSON.stringify(error))).to.deep.equal({ code: 'ERR_VOLUME_MOUNT', mountPath: MOUNT_PATH, name: 'VolumeMountError' });
    });
  });
});
