/**
 * What `connectVolume` does, as a pure function of what it observed. The rules, one place:
 * - healthy: reuse it; check the image; record the attachment.
 * - foreign file system at the path: refuse; never mount over it.
 * - stale because the client is gone or the root looks wrong: unmount (lazily when the plain
 *   unmount fails), mount again.
 * - hung (no answer in time) and in use (attachments recorded, or files open): refuse with
 *   `VolumeUnresponsiveError` and leave it alone — slow is not dead — unless the caller forces
 *   the repair.
 * - hung and unused: abort the FUSE connection (it frees every request stuck on it), unmount
 *   lazily (a plain umount hangs too), mount again.
 * - absent: create the directory (or check the one left behind: never a link), mount.
 * - stacked (more than one of our mounts at the path): the top goes first and the layer below
 *   is judged afresh (`decide-stack.ts`); nothing is ever mounted on a stack.
 * After a mount: verify the mount, then check the image.
 *
 * @module
 */
import { InvalidVolumeError, VolumeUnresponsiveError } from '../errors.js';
import type { MountEntry } from '../filesystem/file-system-probe.js';
import { fuseMinor } from '../filesystem/fuse-connection.js';
import type { DecisionSettings, MountHealth, MountObservation } from './observation.js';
import type { ConnectPlan, MountCommands, PlanStep } from './plan-step.js';
import { peelTopSteps } from './decide-stack.js';

/** Another file system occupies the mount path: it is never mounted over. */
export function foreignMountError(mountPath: string, entry: MountEntry): InvalidVolumeError {
  return new InvalidVolumeError(mountPath, `The mount ${mountPath} holds another file system (${entry.fsType} from ${entry.source}); refusing to mount over it`);
}

/** Whether a hung mount may be repaired: nobody uses it, or the operator said so. */
export function mayRepairHung(observation: MountObservation, settings: DecisionSettings): boolean {
  return settings.forceRepair || (observation.attachments.length === 0 && (observation.openBy ?? 0) === 0);
}

/** Who uses a hung mount, for the refusal's message. */
function usersOf(observation: MountObservation): string {
  const parts: string[] = [];
  if (observation.attachments.length > 0) parts.push(`${observation.attachments.length} attachment(s) recorded`);
  if ((observation.openBy ?? 0) > 0) parts.push(`open by ${observation.openBy} process(es)`);
  return parts.join(', ');
}

/** The steps that take a stale or hung mount away so it can be mounted again (or released). */
export function removalSteps(
  mountPath: string,
  health: Extract<MountHealth, { state: 'stale' }>,
  commands: MountCommands,
  force = false,
): PlanStep[] {
  if (health.reason !== 'unresponsive') {
    return [{ kind: 'run', purpose: 'unmount', command: commands.unmount(false), fallback: commands.unmount(true) }];
  }
  const steps: PlanStep[] = [];
  const minor = fuseMinor(health.entry);
  // The helper refuses to abort a mount with files open unless told this is deliberate.
  const abort = force ? (commands.forceAbort ?? commands.abort) : commands.abort;
  if (abort !== undefined) {
    if (minor !== undefined) steps.push({ kind: 'run', purpose: 'abort', command: abort });
  } else if (minor !== undefined) {
    steps.push({ kind: 'abort-fuse', mountPath, minor });
  }
  steps.push({ kind: 'run', purpose: 'lazy-unmount', command: commands.unmount(true) });
  return steps;
}

/** The plan for `connectVolume`. */
export function decideConnect(observation: MountObservation, settings: DecisionSettings, commands: MountCommands): ConnectPlan {
  const { mountPath, devicePath, attachmentId, health } = observation;
  // An attachment already recorded needs no write (a warm connect writes nothing).
  const record: PlanStep[] = observation.attachments.includes(attachmentId) ? [] : [{ kind: 'record-attachment', id: attachmentId, mountPath }];
  const mountSteps: PlanStep[] = [
    { kind: 'run', purpose: 'mount', command: commands.mount },
    { kind: 'verify-mount', mountPath },
    { kind: 'check-image', devicePath },
    ...record,
  ];
  const plan = (action: ConnectPlan['action'], steps: PlanStep[]): ConnectPlan => ({ operation: 'connect', mountPath, steps, action });
  const peel = peelTopSteps(observation, settings, commands);
  if (peel !== undefined) return { ...plan('repaired', peel), ...(health?.state === 'stale' ? { staleReason: health.reason } : {}) };
  switch (health?.state) {
    case undefined:
    case 'known-healthy':
    case 'healthy':
      return plan('reused', [{ kind: 'nothing-to-do', why: `${mountPath} is mounted and healthy` }, { kind: 'check-image', devicePath }, ...record]);
    case 'foreign':
      return plan('mounted', [{ kind: 'refuse', error: foreignMountError(mountPath, health.entry) }]);
    case 'absent': {
      // The directory is made or, when left behind, checked (no link, ours, under the base)
      // before every mount: one planted there sends the mount anywhere. The privileged helper
      // makes and checks it itself.
      const directory: PlanStep = observation.directoryExists === true ? { kind: 'create-directory', path: mountPath, existing: true } : { kind: 'create-directory', path: mountPath };
      return plan('mounted', [...(commands.managesDirectories === true ? [] : [directory]), ...mountSteps]);
    }
    case 'stale':
      if (health.reason === 'unresponsive' && !mayRepairHung(observation, settings)) {
        const error = new VolumeUnresponsiveError(
          mountPath,
          `The mount ${mountPath} did not answer in time and is in use (${usersOf(observation)}); it was left alone. A repair would take the disk from its guests: run it deliberately (libvirt-volume repair --force)`,
          { cause: health.error },
        );
        return plan('repaired', [{ kind: 'refuse', error }]);
      }
      return { ...plan('repaired', [...removalSteps(mountPath, health, commands, settings.forceRepair), ...mountSteps]), staleReason: health.reason };
  }
}
