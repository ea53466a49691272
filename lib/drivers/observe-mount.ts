/**
 * The observe step: what an operation looks at before its decision, and no more than the
 * decision needs (a warm connect reads no mount table; a disconnect with other attachments
 * left looks at no mount at all).
 *
 * @module
 */
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';
import { disconnectNeedsHealth } from '../plans/decide-disconnect.js';
import type { MountObservation } from '../plans/observation.js';
import type { FastPath } from './fast-path.js';
import type { MountInspector } from './mount-inspector.js';
import type { ResolvedVolume } from './resolved-volume.js';

/** What observing needs. */
export interface ObserveContext {
  probe: FileSystemProbe;
  store: AttachmentStore;
  inspector: MountInspector;
  fastPath: FastPath;
}

/**
 * Observes one mount point for one operation.
 * @param how.fast Trust a mount validated moments ago (a real operation); a dry run looks afresh.
 */
export async function observeMount(
  context: ObserveContext,
  volume: ResolvedVolume,
  attachmentId: string,
  how: { operation: 'connect' | 'disconnect'; fast: boolean },
): Promise<MountObservation> {
  const { mountPath, devicePath } = volume;
  const { store, inspector, fastPath, probe } = context;
  const attachments = await store.list(mountPath);
  const observation: MountObservation = { mountPath, devicePath, attachmentId, attachments, health: undefined };
  if (how.operation === 'disconnect' && !disconnectNeedsHealth(attachments, attachmentId)) return observation;
  if (how.fast && (await fastPath.stillHealthy(mountPath))) {
    observation.health = { state: 'known-healthy' };
    return observation;
  }
  if (how.fast) fastPath.forget(mountPath);
  const { health, layers } = await inspector.inspectWithTable(mountPath);
  observation.health = health;
  if (layers > 1) observation.layers = layers;
  if (health.state === 'absent') observation.directoryExists = await probe.pathExists(mountPath);
  if (health.state === 'stale' && health.reason === 'unresponsive') {
    // Who holds files open under a hung mount decides whether it may be repaired.
    observation.openBy = (await probe.countOpenFilesUnder?.(mountPath)) ?? 0;
  }
  return observation;
}
