/**
 * Stacked mounts: two or more of our mounts at one mount path (a mount raced by a process that
 * took no lock, or a client mounted over a dead one by hand). Only the top layer is reachable by
 * the path, but a guest that opened its disk before the top was mounted still works on the one
 * below, so the driver never creates a stack and never mounts on one. The rules, one place:
 * - the top is removed first, by the same rules as a single mount: a dead client (`ENOTCONN`,
 *   a wrong root) is unmounted (lazily when the plain unmount fails); a hung one only when
 *   nobody uses the mount point (no attachment recorded, no file open) or the operator forces it;
 * - a healthy top is removed only by a plain `umount`, never lazily: it fails while a guest has
 *   files open on it, and then the top stays and is used (removing it would take that guest's
 *   disk; the layer below is left as it is and `reconcile` reports the stack);
 * - after each removal the layer below is observed and judged afresh (`look-again`), until one
 *   layer remains: it is then reused when healthy, or repaired as any single mount is.
 *
 * @module
 */
import { mayRepairHung, removalSteps } from './decide-connect.js';
import type { DecisionSettings, MountObservation } from './observation.js';
import type { MountCommands, PlanStep } from './plan-step.js';

/** How many of our mounts are stacked at the observed path (1 when not stacked or not looked at). */
export function layersOf(observation: Pick<MountObservation, 'layers'>): number {
  return observation.layers ?? 1;
}

/**
 * The steps that take the top of a stack away and look again at the layer below, or
 * `undefined` when the top stays (not stacked; a healthy top with files open on it; hung and in
 * use, which the operation refuses or leaves alone as for a single mount; a foreign file system).
 */
export function peelTopSteps(observation: MountObservation, settings: DecisionSettings, commands: MountCommands): PlanStep[] | undefined {
  const layers = layersOf(observation);
  const { mountPath, health } = observation;
  if (layers < 2) return undefined;
  const lookAgain: PlanStep = { kind: 'look-again', why: `${layers} mounts of ours are stacked at ${mountPath}; the one below is judged next` };
  switch (health?.state) {
    case 'healthy':
    case 'known-healthy':
      if (observation.topLayerBusy === true) return undefined;
      // No fallback: a busy healthy top is a guest's disk, never detached lazily.
      return [{ kind: 'run', purpose: 'unmount', command: commands.unmount(false) }, lookAgain];
    case 'stale':
      if (health.reason === 'unresponsive' && !mayRepairHung(observation, settings)) return undefined;
      return [...removalSteps(mountPath, health, commands, settings.forceRepair), lookAgain];
    case 'foreign':
    case 'absent':
    case undefined:
      return undefined;
  }
}

/** Whether a plan ends by asking to observe and decide again (the top of a stack was removed). */
export function looksAgain(plan: { steps: readonly PlanStep[] }): boolean {
  return plan.steps.at(-1)?.kind === 'look-again';
}
