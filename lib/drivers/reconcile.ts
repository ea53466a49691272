/**
 * Reconciliation: the mount table and the attachment store made to agree, as an agent does at
 * start (after `restoreAttachments`) or after a crash. Own mounts under the base that no
 * attachment needs are unmounted, by the same decision a last disconnect takes (every layer of a
 * stack); a stack in use loses the layers a connect would remove, down to one; everything the
 * caller must look at is reported, never silently changed.
 *
 * @module
 */
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { MountEntry } from '../filesystem/file-system-probe.js';
import type { MountCommands } from '../plans/plan-step.js';
import { joinPath } from './driver-options.js';
import type { MountManager } from './mount-manager.js';
import type { MountInspector, MountJudge } from './mount-inspector.js';

/** What `reconcileMounts` found and did. */
export interface ReconcileReport {
  /** Own mounts under the base that no attachment needed: unmounted (or, dry, would be). */
  unmounted: string[];
  /** Own mounts no attachment needs that could not go (busy, or hung with files open). */
  kept: string[];
  /** Mount points where attachments are recorded but no own mount is there. */
  missing: Array<{ mountPath: string; attachments: readonly string[] }>;
  /** Mount points with more than one own mount stacked on each other (as found). */
  stacked: string[];
  /**
   * Stacked mount points in use whose top layers were unmounted (or, dry, would be) until one
   * remained: only layers a connect would remove (a dead client, a hung one nobody uses, a
   * healthy one nobody has files open on). A stacked point in use and not listed here is still
   * stacked: its top is busy or hung while in use.
   */
  flattened: string[];
  /** Mount points under the base that hold another file system (never touched). */
  foreign: string[];
}

/** Options of a reconciliation. */
export interface ReconcileOptions {
  /** Report what would be done and do nothing. */
  dryRun?: boolean;
  /** Abort the operation. */
  signal?: AbortSignal;
}

/** A mount-point name the driver makes: the md5 of an export. */
const MOUNT_NAME = /^[0-9a-f]{32}$/;

/** What reconciling needs from the driver. */
export interface ReconcileParts {
  base: string;
  store: AttachmentStore;
  inspector: MountInspector;
  judge: MountJudge;
  manager: MountManager;
  /** The commands for a mount path, from its mount-table entry (the export is in its source). */
  commandsFor(mountPath: string, entry: MountEntry): Promise<MountCommands>;
}

/**
 * Makes the mount table and the attachment store agree under one base.
 */
export async function reconcileMounts(parts: ReconcileParts, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const report: ReconcileReport = { unmounted: [], kept: [], missing: [], stacked: [], flattened: [], foreign: [] };
  const { entries } = await parts.inspector.entryAt(parts.base);
  const canonicalBase = await parts.inspector.canonicalMountPath(joinPath(parts.base, 'x')).then((path) => path.slice(0, -2));
  // Mount points directly under the base with a driver-made name, each with its layers.
  const layers = new Map<string, MountEntry[]>();
  for (const entry of entries) {
    const name = entry.mountPoint.slice(canonicalBase.length + 1);
    if (!entry.mountPoint.startsWith(`${canonicalBase}/`) || !MOUNT_NAME.test(name)) continue;
    const mountPath = joinPath(parts.base, name);
    layers.set(mountPath, [...(layers.get(mountPath) ?? []), entry]);
  }
  const table = await parts.store.entries();
  for (const [mountPath, stack] of layers) {
    const top = stack.at(-1);
    if (top === undefined) continue;
    if (!parts.judge.isOwnMount(top)) {
      report.foreign.push(mountPath);
      continue;
    }
    const stacked = stack.filter((entry) => parts.judge.isOwnMount(entry)).length > 1;
    if (stacked) report.stacked.push(mountPath);
    const how = { dryRun: options.dryRun === true, layers: stack.length, ...(options.signal === undefined ? {} : { signal: options.signal }) };
    if ((table.get(mountPath) ?? []).length > 0) {
      // In use: the layers a connect would remove go, so the next connect finds one mount.
      if (stacked && (await parts.manager.flatten(mountPath, await parts.commandsFor(mountPath, top), how))) report.flattened.push(mountPath);
      continue;
    }
    const released = await parts.manager.release(mountPath, await parts.commandsFor(mountPath, top), how);
    if (released !== 'in-use') report[released === 'unmounted' ? 'unmounted' : 'kept'].push(mountPath);
  }
  for (const [mountPath, attachments] of table) {
    const top = layers.get(mountPath)?.at(-1);
    if (attachments.length > 0 && (top === undefined || !parts.judge.isOwnMount(top))) report.missing.push({ mountPath, attachments });
  }
  return report;
}
