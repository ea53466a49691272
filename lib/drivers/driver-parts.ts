/**
 * A driver's parts, assembled once from its options: the injected runner, probe and store (or
 * the defaults), and the inspector and mount manager built on them.
 *
 * @module
 */
import type { AttachmentStore } from '../attachments/attachment-store.js';
import { MemoryAttachmentStore } from '../attachments/memory-attachment-store.js';
import type { CommandRunner } from '../commands/command-runner.js';
import { ExecaCommandRunner } from '../commands/execa-command-runner.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';
import { NodeFileSystemProbe } from '../filesystem/node-file-system-probe.js';
import { checkDriverOptions, type CheckedDriverOptions, type FileSystemVolumeDriverOptions } from './driver-options.js';
import { FastPath } from './fast-path.js';
import { MountInspector, type MountJudge } from './mount-inspector.js';
import { MountManager } from './mount-manager.js';

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
  const { commandTimeoutMs, probeTimeoutMs } = options;
  const runner = raw.runner ?? new ExecaCommandRunner({ timeoutMs: commandTimeoutMs });
  const probe = raw.probe ?? new NodeFileSystemProbe();
  const store = raw.attachments ?? new MemoryAttachmentStore();
  const inspector = new MountInspector(probe, judge, options.mountPointBase, probeTimeoutMs);
  const fastPath = new FastPath(probe, judge, options.revalidateAfterMs, probeTimeoutMs);
  const manager = new MountManager({ runner, probe, store, inspector, fastPath, commandTimeoutMs, probeTimeoutMs });
  return { options, runner, probe, store, inspector, manager };
}
