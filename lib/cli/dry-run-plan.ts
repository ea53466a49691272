/**
 * `--dry-run`: what `connect` and `disconnect` would do, worked out from the same looks at the
 * host the driver takes (`inspectMount`, `mountCommandFor`, the attachment store), without
 * running a command or writing anything.
 *
 * @module
 */
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { Command } from '../commands/command-runner.js';
import type { ConnectionInfo, InstanceRef } from '../drivers/connection-info.js';
import { foreignMountError, type MountHealth } from '../drivers/file-system-volume-driver.js';
import type { QuobyteVolumeDriver } from '../drivers/quobyte-volume-driver.js';
import { attachmentIdOf } from '../drivers/validate-connection-info.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';

/** One thing the real command would do, or a note on why it would do nothing. */
export type PlanStep =
  | { kind: 'run'; command: Command }
  | { kind: 'create-directory'; path: string }
  | { kind: 'remove-directory'; path: string }
  | { kind: 'record-attachment'; id: string; mountPath: string }
  | { kind: 'remove-attachment'; id: string; mountPath: string }
  | { kind: 'nothing-to-run'; why: string };

/** What a plan is worked out from. */
export interface PlanContext {
  driver: QuobyteVolumeDriver;
  probe: FileSystemProbe;
  store: AttachmentStore;
}

/** The unmount the driver runs for a stale mount: lazy for a hung one, whose plain umount hangs too. */
function staleUnmount(mountPath: string, health: Extract<MountHealth, { state: 'stale' }>): PlanStep {
  return { kind: 'run', command: { file: 'umount', args: health.reason === 'unresponsive' ? ['-l', mountPath] : [mountPath] } };
}

/**
 * What `connect` would do: reuse a healthy mount; unmount a stale one and mount again; create
 * the directory and mount where nothing is mounted; then record the attachment.
 *
 * @throws {@link InvalidConnectionInfoError} bad input
 * @throws {@link InvalidVolumeError} another file system occupies the mount path, as `connect` would
 */
export async function planConnect(context: PlanContext, ci: ConnectionInfo, instance: InstanceRef): Promise<PlanStep[]> {
  const { driver, probe, store } = context;
  const { mountPath } = driver.resolveVolume(ci);
  const id = attachmentIdOf(ci, instance);
  const health = await driver.inspectMount(mountPath);
  const steps: PlanStep[] = [];
  switch (health.state) {
    case 'healthy':
      steps.push({ kind: 'nothing-to-run', why: `${mountPath} is mounted and healthy` });
      break;
    case 'foreign':
      throw foreignMountError(mountPath, health.entry);
    case 'stale':
      steps.push(staleUnmount(mountPath, health), { kind: 'run', command: await driver.mountCommandFor(ci) });
      break;
    case 'absent':
      if (!(await probe.pathExists(mountPath))) steps.push({ kind: 'create-directory', path: mountPath });
      steps.push({ kind: 'run', command: await driver.mountCommandFor(ci) });
      break;
  }
  if (!(await store.list(mountPath)).includes(id)) steps.push({ kind: 'record-attachment', id, mountPath });
  return steps;
}

/**
 * What `disconnect` would do: drop the attachment; leave the mount while other attachments
 * remain; otherwise unmount (a stale mount too) and remove the directory. A foreign file system
 * is left alone.
 *
 * @throws {@link InvalidConnectionInfoError} bad input
 */
export async function planDisconnect(context: PlanContext, ci: ConnectionInfo, instance: InstanceRef): Promise<PlanStep[]> {
  const { driver, probe, store } = context;
  const { mountPath } = driver.resolveVolume(ci);
  const id = attachmentIdOf(ci, instance);
  const ids = await store.list(mountPath);
  const steps: PlanStep[] = [];
  if (ids.includes(id)) steps.push({ kind: 'remove-attachment', id, mountPath });
  const others = ids.filter((other) => other !== id).length;
  if (others > 0) {
    steps.push({ kind: 'nothing-to-run', why: `${mountPath} is still in use by ${others} other attachment${others === 1 ? '' : 's'}` });
    return steps;
  }
  const health = await driver.inspectMount(mountPath);
  switch (health.state) {
    case 'absent':
      steps.push({ kind: 'nothing-to-run', why: `nothing is mounted at ${mountPath}` });
      if (await probe.pathExists(mountPath)) steps.push({ kind: 'remove-directory', path: mountPath });
      break;
    case 'foreign':
      steps.push({ kind: 'nothing-to-run', why: `${mountPath} holds another file system (${health.entry.fsType}); it is left alone` });
      break;
    case 'stale':
      steps.push(staleUnmount(mountPath, health), { kind: 'remove-directory', path: mountPath });
      break;
    case 'healthy':
      steps.push({ kind: 'run', command: { file: 'umount', args: [mountPath] } }, { kind: 'remove-directory', path: mountPath });
      break;
  }
  return steps;
}

/** Characters that need no quoting in a POSIX shell word. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A word as a POSIX shell would read it back, so a printed command can be pasted. */
function shellQuote(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replaceAll("'", String.raw`'\''`)}'`;
}

/** The argv as one line, quoted where needed. */
export function formatCommand(command: Command): string {
  return [command.file, ...command.args].map(shellQuote).join(' ');
}

/** One line per step: `would run: ...`, `would create directory: ...`, `nothing to run: ...`. */
export function formatPlan(steps: readonly PlanStep[]): string {
  return steps
    .map((step) => {
      switch (step.kind) {
        case 'run':
          return `would run: ${formatCommand(step.command)}`;
        case 'create-directory':
          return `would create directory: ${step.path}`;
        case 'remove-directory':
          return `would remove directory: ${step.path}`;
        case 'record-attachment':
          return `would record attachment: ${step.id} on ${step.mountPath}`;
        case 'remove-attachment':
          return `would remove attachment: ${step.id} from ${step.mountPath}`;
        case 'nothing-to-run':
          return `nothing to run: ${step.why}`;
      }
    })
    .map((line) => `${line}\n`)
    .join('');
}
