/**
 * What `disconnectVolume` does, as a pure function of what it observed. The rules, one place:
 * - drop this call's attachment (a never-recorded one is reported as `not-attached`);
 * - other attachments remain: leave the share mounted;
 * - none remain: unmount (a stale mount too, lazily where the plain unmount fails) and remove
 *   the empty directory; a busy unmount is reported, not thrown;
 * - hung with files still open: leave it alone (slow is not dead) unless forced;
 * - nothing or a foreign file system at the path: unmount nothing;
 * - none remain on a stack: each layer goes in turn, from the top, by the same rules
 *   (`decide-stack.ts`), so no mount is left under an empty store.
 *
 * @module
 */
import { mayRepairHung, removalSteps } from './decide-connect.js';
import type { DecisionSettings, MountObservation } from './observation.js';
import type { DisconnectPlan, MountCommands, PlanStep } from './plan-step.js';
import { layersOf, peelTopSteps } from './decide-stack.js';

/** Whether the decision needs the mount's health: only when no other attachment remains. */
export function disconnectNeedsHealth(attachments: readonly string[], attachmentId: string): boolean {
  return attachments.every((id) => id === attachmentId);
}

/** The plan for `disconnectVolume`. */
export function decideDisconnect(observation: MountObservation, settings: DecisionSettings, commands: MountCommands): DisconnectPlan {
  const { mountPath, attachmentId, health } = observation;
  const recorded = observation.attachments.includes(attachmentId);
  const others = observation.attachments.filter((id) => id !== attachmentId).length;
  const steps: PlanStep[] = recorded ? [{ kind: 'remove-attachment', id: attachmentId, mountPath }] : [];
  const plan = (reason: DisconnectPlan['reason'], more: PlanStep[]): DisconnectPlan => ({ operation: 'disconnect', mountPath, steps: [...steps, ...more], reason });
  if (others > 0 || health === undefined) {
    const why = `${mountPath} is still in use by ${others} other attachment${others === 1 ? '' : 's'}`;
    return plan(recorded ? 'in-use' : 'not-attached', [{ kind: 'nothing-to-do', why }]);
  }
  // The privileged helper removes the directory itself.
  const removeDirectory: PlanStep[] = commands.managesDirectories === true ? [] : [{ kind: 'remove-directory', path: mountPath }];
  // Nobody's attachment is left: the healthy top is no guest's disk any more, but a plain
  // unmount still tells (busy) when files are open on it.
  const peel = peelTopSteps({ ...observation, attachments: [] }, settings, commands);
  if (peel !== undefined) return plan('unmounted', peel);
  if (layersOf(observation) > 1 && observation.topLayerBusy === true) {
    return plan('busy', [{ kind: 'nothing-to-do', why: `files are open on the top of the mounts stacked at ${mountPath}; they are left alone` }]);
  }
  switch (health.state) {
    case 'absent':
      return plan('not-mounted', [{ kind: 'nothing-to-do', why: `nothing is mounted at ${mountPath}` }, ...(observation.directoryExists === false ? [] : removeDirectory)]);
    case 'foreign':
      return plan('not-mounted', [{ kind: 'nothing-to-do', why: `${mountPath} holds another file system (${health.entry.fsType}); it is left alone` }]);
    case 'stale':
      if (health.reason === 'unresponsive' && !mayRepairHung({ ...observation, attachments: [] }, settings)) {
        return plan('busy', [{ kind: 'nothing-to-do', why: `${mountPath} did not answer in time and files on it are open by ${observation.openBy ?? 0} process(es); it is left alone` }]);
      }
      return plan('unmounted', [...removalSteps(mountPath, health, commands, settings.forceRepair), ...removeDirectory]);
    case 'healthy':
    case 'known-healthy':
      return plan('unmounted', [{ kind: 'run', purpose: 'unmount', command: commands.unmount(false) }, ...removeDirectory]);
  }
}
