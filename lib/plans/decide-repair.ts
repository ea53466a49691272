/**
 * What a deliberate repair (`libvirt-volume repair`, `driver.repairMount`) does, as a pure
 * function of what it observed. It is the removal and mount half of a connect's repair, with
 * no image check and no attachment recorded:
 * - healthy: nothing to repair.
 * - absent: nothing to repair (a connect mounts it).
 * - foreign file system at the path: refuse; never touched.
 * - stale because the client is gone or the root looks wrong: unmount (lazily when the plain
 *   unmount fails), mount again.
 * - hung and in use: refuse with `VolumeUnresponsiveError` unless forced; forced (or unused):
 *   abort the FUSE connection, unmount lazily, mount again. Guests on the old mount lose their
 *   disk: every I/O on it fails with `ENOTCONN` or `ECONNABORTED`.
 * - stacked: the top goes first and the layer below is judged afresh (`decide-stack.ts`);
 *   the repair never mounts on a stack.
 *
 * @module
 */
import { VolumeUnresponsiveError } from '../errors.js';
import { foreignMountError, mayRepairHung, removalSteps } from './decide-connect.js';
import type { DecisionSettings, MountObservation } from './observation.js';
import type { MountCommands, RepairPlan } from './plan-step.js';
import { peelTopSteps } from './decide-stack.js';

/** What `--force` costs, in the words the refusal uses. */
export const FORCED_REPAIR_CONSEQUENCE =
  'guests on the old mount lose their disk: every I/O on it fails with ENOTCONN or ECONNABORTED';

/** Who uses a hung mount, for the refusal. */
function usersOf(observation: MountObservation): string {
  const parts = [`${observation.attachments.length} attachment(s) recorded`];
  if ((observation.openBy ?? 0) > 0) parts.push(`open by ${observation.openBy} process(es)`);
  return parts.join(', ');
}

/** The plan for a deliberate repair of one mount point. */
export function decideRepair(observation: MountObservation, settings: DecisionSettings, commands: MountCommands): RepairPlan {
  const { mountPath, health } = observation;
  const plan = (outcome: RepairPlan['outcome'], steps: RepairPlan['steps']): RepairPlan => ({ operation: 'repair', mountPath, steps, outcome });
  const peel = peelTopSteps(observation, settings, commands);
  if (peel !== undefined) return { ...plan('repaired', peel), ...(health?.state === 'stale' ? { staleReason: health.reason } : {}) };
  switch (health?.state) {
    case undefined:
    case 'known-healthy':
    case 'healthy':
      return plan('healthy', [{ kind: 'nothing-to-do', why: `${mountPath} is mounted and healthy; nothing to repair` }]);
    case 'absent':
      return plan('not-mounted', [{ kind: 'nothing-to-do', why: `nothing is mounted at ${mountPath}; nothing to repair (a connect mounts it)` }]);
    case 'foreign':
      return plan('repaired', [{ kind: 'refuse', error: foreignMountError(mountPath, health.entry) }]);
    case 'stale':
      if (health.reason === 'unresponsive' && !mayRepairHung(observation, settings)) {
        const error = new VolumeUnresponsiveError(
          mountPath,
          `The mount ${mountPath} did not answer in time and is in use (${usersOf(observation)}); it was left alone. Forcing the repair (--force) aborts its FUSE connection and mounts it again: ${FORCED_REPAIR_CONSEQUENCE}`,
          { cause: health.error },
        );
        return plan('repaired', [{ kind: 'refuse', error }]);
      }
      return {
        ...plan('repaired', [...removalSteps(mountPath, health, commands, settings.forceRepair), { kind: 'run', purpose: 'mount', command: commands.mount }, { kind: 'verify-mount', mountPath }]),
        staleReason: health.reason,
      };
  }
}
