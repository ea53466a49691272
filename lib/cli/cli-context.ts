/**
 * What every command needs: the injected streams and environment, the base directory and the
 * attachment store resolved from options and environment, and a driver built on them.
 *
 * @module
 */
import type { AttachmentStore } from '../attachments/attachment-store.js';
import { FileAttachmentStore } from '../attachments/file-attachment-store.js';
import type { CommandRunner } from '../commands/command-runner.js';
import { QuobyteVolumeDriver, type QuobyteVolumeDriverOptions } from '../drivers/quobyte-volume-driver.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';
import { NodeFileSystemProbe } from '../filesystem/node-file-system-probe.js';
import { CliUsageError } from './cli-usage-error.js';

export { DEFAULT_MOUNT_BASE, DEFAULT_STATE_FILE_NAME, MOUNT_BASE_ENV, STATE_ENV } from './cli-defaults.js';

/** Where the CLI writes: `process.stdout`/`process.stderr`, or a test's collector. */
export interface CliOutput {
  write(text: string): unknown;
  /** Terminal width, when the stream is a terminal; help is wrapped to it. */
  readonly columns?: number | undefined;
  /** Whether the stream is a terminal: `status` then says what a slow check waits for. */
  readonly isTTY?: boolean | undefined;
}

/** What {@link runCli} is given by `main.ts`, or by a test. */
export interface RunCliOptions {
  stdout: CliOutput;
  stderr: CliOutput;
  /**
   * The environment (`LIBVIRT_VOLUME_MOUNT_BASE`, `LIBVIRT_VOLUME_STATE`).
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * How the host is looked at: handed to the driver and used by `status` to list the mounts
   * under the base, so both see the same host.
   * @default new NodeFileSystemProbe()
   */
  probe?: FileSystemProbe;
  /** How commands run; handed to the driver when given (the driver's default otherwise). */
  runner?: CommandRunner;
  /**
   * Builds the driver from the options the CLI worked out (base, probe, store, timeouts, client
   * configuration). A replacement that supplies its own probe must also pass that probe as
   * {@link RunCliOptions.probe}, or `status` lists one host and inspects another.
   * @default (options) => new QuobyteVolumeDriver(options)
   */
  createDriver?: (options: QuobyteVolumeDriverOptions) => QuobyteVolumeDriver;
}

/** Options shared by the commands that touch the host. */
export interface HostOptions {
  base?: string;
  state?: string;
  cfg?: string;
  timeoutMs?: number;
  probeTimeoutMs?: number;
}

/** A driver ready for one command, with the parts it was built from. */
export interface OpenedDriver {
  driver: QuobyteVolumeDriver;
  probe: FileSystemProbe;
  /** The store handed to the driver. */
  store: AttachmentStore;
}

import { resolveMountBase, resolveStatePath } from './cli-defaults.js';

export { resolveMountBase, resolveStatePath };

/**
 * Builds the driver for one command, with a {@link FileAttachmentStore} at the state path. The driver checks its own options; what it refuses
 * (a relative base, a `--cfg` starting with `-`, a zero timeout) is a usage error.
 *
 * @throws {@link CliUsageError}
 */
export function openDriver(deps: RunCliOptions, options: HostOptions): OpenedDriver {
  const probe = deps.probe ?? new NodeFileSystemProbe();
  const mountPointBase = resolveMountBase(options, deps.env);
  try {
    // Constructing the store touches no file; only the commands that use it read or write it.
    const store = new FileAttachmentStore(resolveStatePath(options, deps.env, mountPointBase));
    const driverOptions: QuobyteVolumeDriverOptions = {
      mountPointBase,
      probe,
      ...(deps.runner === undefined ? {} : { runner: deps.runner }),
      attachments: store,
      ...(options.cfg === undefined ? {} : { clientConfigFile: options.cfg }),
      ...(options.timeoutMs === undefined ? {} : { commandTimeoutMs: options.timeoutMs }),
      ...(options.probeTimeoutMs === undefined ? {} : { probeTimeoutMs: options.probeTimeoutMs }),
    };
    const driver = (deps.createDriver ?? ((o: QuobyteVolumeDriverOptions) => new QuobyteVolumeDriver(o)))(driverOptions);
    return { driver, probe, store };
  } catch (error) {
    if (error instanceof TypeError) throw new CliUsageError(error.message, { cause: error });
    throw error;
  }
}
