/**
 * A driver's parts, assembled once from its options: the injected runner, probe, store and lock
 * (or the host-wide defaults), and the inspector and mount manager built on them.
 *
 * @module
 */
import type { AttachmentStore } from '../attachments/attachment-store.js';
import { FileAttachmentStore } from '../attachments/file-attachment-store.js';
import { MemoryAttachmentStore } from '../attachments/memory-attachment-store.js';
import type { CommandRunner } from '../commands/command-runner.js';
import { ExecaCommandRunner } from '../commands/execa-command-runner.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';
import { NodeFileSystemProbe } from '../filesystem/node-file-system-probe.js';
import { defaultMountLockFor } from '../locks/default-mount-lock-for.js';
import { instrumentRunner } from '../observability/instrument-runner.js';
import { checkLogger } from '../observability/logger.js';
import { checkDriverOptions, joinPath, type CheckedDriverOptions, type FileSystemVolumeDriverOptions } from './driver-options.js';
import { FastPath } from './fast-path.js';
import { MountInspector, type MountJudge } from './mount-inspector.js';
import { MountManager } from './mount-manager.js';

/** The store file every process on a base shares by default (the CLI's `--state` default). */
export const DEFAULT_STATE_FILE_NAME = '.libvirt-volume-attachments.json';

/** Everything a driver works with. */
export interface DriverParts {
  options: CheckedDriverOptions;
  runner: CommandRunner;
  probe: FileSystemProbe;
  store: AttachmentStore;
  inspector: MountInspector;
  manager: MountManager;
}

/**
 * Checks the options and builds the parts.
 * @throws TypeError when an option has the wrong type or range.
 */
export function assembleDriverParts(raw: FileSystemVolumeDriverOptions, judge: MountJudge): DriverParts {
  const options = checkDriverOptions(raw);
  const { commandTimeoutMs, probeTimeoutMs, mountPointBase } = options;
  const logger = raw.logger === undefined ? undefined : checkLogger(raw.logger);
  // Every command is published on the `command` channel (and logged), whoever runs it.
  const runner = instrumentRunner(raw.runner ?? new ExecaCommandRunner({ timeoutMs: commandTimeoutMs }), logger === undefined ? {} : { logger });
  const probe = raw.probe ?? new NodeFileSystemProbe();
  // One host, one truth: on the real host every process on the base shares its store and locks.
  const store =
    raw.attachments ?? (raw.probe === undefined ? new FileAttachmentStore(joinPath(mountPointBase, DEFAULT_STATE_FILE_NAME)) : new MemoryAttachmentStore());
  const lock = raw.mountLock ?? defaultMountLockFor(store);
  const inspector = new MountInspector(probe, judge, mountPointBase, probeTimeoutMs);
  const fastPath = new FastPath(probe, judge, options.revalidateAfterMs, probeTimeoutMs);
  const secureBase = options.privilegedHelper === undefined ? probe.secureMountBase?.bind(probe) : undefined;
  const manager = new MountManager({ runner, probe, store, lock, inspector, fastPath, commandTimeoutMs, probeTimeoutMs, base: mountPointBase, secureBase });
  return { options, runner, probe, store, inspector, manager };
}
