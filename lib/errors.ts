/**
 * Every error the library raises extends {@link VolumeDriverError} and carries a stable `code`,
 * so callers branch on `err.code` rather than on message text.
 *
 * @module
 */
import type { Command } from './commands/command-runner.js';

/** Options accepted by every error of this library. */
export interface VolumeDriverErrorOptions {
  /** The lower-level error this one wraps, when there is a real one. */
  cause?: unknown;
}

/**
 * Every `code` an error of this library can carry, one per class. A new error class adds its code
 * here (the compiler insists: {@link VolumeDriverError.code} is typed from this list).
 */
export const VOLUME_DRIVER_ERROR_CODES = [
  'ERR_INVALID_CONNECTION_INFO',
  'ERR_INVALID_VOLUME',
  'ERR_STALE_VOLUME_MOUNT',
  'ERR_VOLUME_UNRESPONSIVE',
  'ERR_UNSAFE_IMAGE',
  'ERR_INSECURE_MOUNT_BASE',
  'ERR_VOLUME_MOUNT',
  'ERR_VOLUME_UNMOUNT',
  'ERR_COMMAND_FAILED',
  'ERR_COMMAND_TIMEOUT',
  'ERR_COMMAND_NOT_FOUND',
  'ERR_ATTACHMENT_STORE',
  'ERR_MOUNT_LOCK',
] as const;

/**
 * The `code` of any error this library raises. `switch (err.code)` over it narrows, and an
 * exhaustiveness check (`const unhandled: never = err.code`) tells a caller when a release adds one.
 */
export type VolumeDriverErrorCode = (typeof VOLUME_DRIVER_ERROR_CODES)[number];

/**
 * Marks this library's errors. `Symbol.for` (the global registry), not a module-local symbol or
 * `instanceof`: two copies of the package in one process (a dependency's and the agent's own)
 * have two `VolumeDriverError` classes, and each must recognise the other's errors.
 */
const BRAND = Symbol.for('libvirt-volume-driver.VolumeDriverError');

/** Base class of every error raised by this library. */
export abstract class VolumeDriverError extends Error {
  static {
    // On the prototype, so it is neither an own property (console.log) nor enumerable.
    Object.defineProperty(this.prototype, BRAND, { value: true });
  }

  /** Stable, machine-readable identifier of the failure (e.g. `ERR_VOLUME_MOUNT`). */
  abstract readonly code: VolumeDriverErrorCode;

  constructor(message: string, options: VolumeDriverErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = new.target.name;
  }
}

/**
 * Whether `value` is an error of this library, from this copy of the package or from any other
 * (a brand in the global symbol registry, not `instanceof`). Then `value.code` is one of
 * {@link VolumeDriverErrorCode}.
 *
 * @example
 * ```ts
 * try {
 *   await driver.connectVolume(ci, instance);
 * } catch (error) {
 *   if (!isVolumeDriverError(error)) throw error;
 *   switch (error.code) {
 *     case 'ERR_STALE_VOLUME_MOUNT': // ...
 *   }
 * }
 * ```
 */
export function isVolumeDriverError(value: unknown): value is VolumeDriverError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [BRAND]?: unknown })[BRAND] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** Connection info is malformed or dangerous. Nothing was run and nothing was written. */
export class InvalidConnectionInfoError extends VolumeDriverError {
  readonly code = 'ERR_INVALID_CONNECTION_INFO';
  /** Dotted path of the offending field, e.g. `data.export`. */
  readonly field: string;

  constructor(field: string, reason: string, options: VolumeDriverErrorOptions = {}) {
    super(`Invalid connection info: ${field} ${reason}`, options);
    this.field = field;
  }
}

/** The mount point holds no Quobyte mount, or holds another file system. */
export class InvalidVolumeError extends VolumeDriverError {
  /** `ERR_INVALID_VOLUME`, or the code of the subclass. */
  readonly code: 'ERR_INVALID_VOLUME' | 'ERR_STALE_VOLUME_MOUNT' | 'ERR_VOLUME_UNRESPONSIVE' | 'ERR_UNSAFE_IMAGE' = 'ERR_INVALID_VOLUME';
  /** The mount path that was validated. */
  readonly mountPath: string;

  constructor(mountPath: string, message: string, options: VolumeDriverErrorOptions = {}) {
    super(message, options);
    this.mountPath = mountPath;
  }
}

/** Why a mount was judged stale. */
export type StaleReason = 'not-connected' | 'nonzero-size' | 'unresponsive';

/**
 * The mount is there but unusable: the client is gone (`ENOTCONN`), the root reports a non-zero
 * size, or it did not answer within `probeTimeoutMs`.
 */
export class StaleVolumeMountError extends InvalidVolumeError {
  override readonly code = 'ERR_STALE_VOLUME_MOUNT';
  /** Why the mount was judged stale. */
  readonly reason: StaleReason;

  constructor(mountPath: string, reason: StaleReason, options: VolumeDriverErrorOptions = {}) {
    super(mountPath, `The mount ${mountPath} is not a valid volume. Stale mount? (${reason})`, options);
    this.reason = reason;
  }
}

/**
 * A mount in use (attachments recorded, or open by anyone) did not answer in time and was left
 * alone: slow is not dead, and a guest never loses its disk on a timeout alone. Repairing it is
 * an explicit operator act (`libvirt-volume repair --force`, or the `forceRepair` option).
 */
export class VolumeUnresponsiveError extends InvalidVolumeError {
  override readonly code = 'ERR_VOLUME_UNRESPONSIVE';

  constructor(mountPath: string, message?: string, options: VolumeDriverErrorOptions = {}) {
    super(mountPath, message ?? `The mount ${mountPath} is in use and did not answer in time; it was left alone`, options);
  }
}

/**
 * The disk image may make the hypervisor open something else: not a regular file, or a qcow2
 * header naming a backing file or data file outside its own directory (OSSA-2024-001).
 */
export class UnsafeImageError extends InvalidVolumeError {
  override readonly code = 'ERR_UNSAFE_IMAGE';
  /** The image that was refused. */
  readonly imagePath: string;

  constructor(mountPath: string, imagePath: string, message: string, options: VolumeDriverErrorOptions = {}) {
    super(mountPath, message, options);
    this.imagePath = imagePath;
  }
}

/** The mount base can be written by someone who should not (or is a link); nothing was run. */
export class InsecureMountBaseError extends VolumeDriverError {
  readonly code = 'ERR_INSECURE_MOUNT_BASE';
  /** The base directory (or the entry under it) that was refused. */
  readonly path: string;

  constructor(path: string, message: string, options: VolumeDriverErrorOptions = {}) {
    super(message, options);
    this.path = path;
  }
}

/** The mount command failed, or the mount is still invalid after mounting. */
export class VolumeMountError extends VolumeDriverError {
  readonly code = 'ERR_VOLUME_MOUNT';
  /** The mount path that was to be mounted. */
  readonly mountPath: string;

  constructor(mountPath: string, message: string, options: VolumeDriverErrorOptions = {}) {
    super(message, options);
    this.mountPath = mountPath;
  }
}

/** An unmount that had to succeed (to repair a stale mount) did not. */
export class VolumeUnmountError extends VolumeDriverError {
  readonly code = 'ERR_VOLUME_UNMOUNT';
  /** The mount path that was to be unmounted. */
  readonly mountPath: string;

  constructor(mountPath: string, message: string, options: VolumeDriverErrorOptions = {}) {
    super(message, options);
    this.mountPath = mountPath;
  }
}

function formatArgv(command: Command): string {
  return [command.file, ...command.args].join(' ');
}

/** A command exited with a status outside `okExitCodes`, or was killed by a signal. */
export class CommandFailedError extends VolumeDriverError {
  readonly code = 'ERR_COMMAND_FAILED';
  /** The argv as the runner ran it (with a root helper, the helper first). */
  readonly command: Command;
  /** Exit status; `-1` when the process was killed by a signal. */
  readonly exitCode: number;
  /** The signal that ended the process, if any (e.g. `SIGKILL`). */
  readonly signal: string | undefined;
  /** What the program wrote to standard output. */
  readonly stdout: string;
  /** What the program wrote to standard error. */
  readonly stderr: string;

  constructor(
    details: { command: Command; exitCode: number; signal?: string | undefined; stdout: string; stderr: string },
    options: VolumeDriverErrorOptions = {},
  ) {
    const how = details.signal === undefined ? `exit code ${details.exitCode}` : `signal ${details.signal}`;
    const tail = details.stderr.trim() === '' ? '' : `\n${details.stderr.trim()}`;
    super(`Command failed with ${how}: ${formatArgv(details.command)}${tail}`, options);
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stdout = details.stdout;
    this.stderr = details.stderr;
  }
}

/** A command ran past its timeout and was killed. */
export class CommandTimeoutError extends VolumeDriverError {
  readonly code = 'ERR_COMMAND_TIMEOUT';
  /** The argv as the runner ran it (with a root helper, the helper first). */
  readonly command: Command;
  /** The timeout that ran out, in milliseconds. */
  readonly timeoutMs: number;
  /** What the program wrote to standard output before it was killed. */
  readonly stdout: string;
  /** What the program wrote to standard error before it was killed. */
  readonly stderr: string;

  constructor(
    details: { command: Command; timeoutMs: number; stdout?: string; stderr?: string },
    options: VolumeDriverErrorOptions = {},
  ) {
    super(`Command timed out after ${details.timeoutMs} milliseconds: ${formatArgv(details.command)}`, options);
    this.command = details.command;
    this.timeoutMs = details.timeoutMs;
    this.stdout = details.stdout ?? '';
    this.stderr = details.stderr ?? '';
  }
}

/** The program is not installed (or not on `PATH`). */
export class CommandNotFoundError extends VolumeDriverError {
  readonly code = 'ERR_COMMAND_NOT_FOUND';
  /** The argv that could not start. */
  readonly command: Command;

  constructor(command: Command, options: VolumeDriverErrorOptions = {}) {
    super(`Command not found: ${command.file}`, options);
    this.command = command;
  }
}

/** The attachment store's file cannot be read or written (a corrupt file is left untouched). */
export class AttachmentStoreError extends VolumeDriverError {
  readonly code = 'ERR_ATTACHMENT_STORE';
  /** The store's file. */
  readonly filePath: string;

  constructor(filePath: string, message: string, options: VolumeDriverErrorOptions = {}) {
    super(message, options);
    this.filePath = filePath;
  }
}

/** A host-wide mount lock cannot be taken or released: its folder is missing or cannot be written. */
export class MountLockError extends VolumeDriverError {
  readonly code = 'ERR_MOUNT_LOCK';
  /** The lock file. */
  readonly lockPath: string;

  constructor(lockPath: string, message: string, options: VolumeDriverErrorOptions = {}) {
    super(message, options);
    this.lockPath = lockPath;
  }
}
