/**
 * The loop that takes a stack of our mounts apart, one layer at a time: decide, and while the
 * plan removes the top of a stack (it ends with `look-again`), apply it and decide again on
 * what is below. Each decision stays a pure function of one observation; only the layer below
 * a removed one can say what it is (it cannot be looked at while covered).
 *
 * @module
 */
import { InvalidVolumeError, type StaleReason } from '../errors.js';
import { looksAgain } from '../plans/decide-stack.js';
import type { MountObservation } from '../plans/observation.js';
import type { Plan } from '../plans/plan-step.js';

/** More layers than anyone stacks by accident; a bound so a mount table that lies cannot loop forever. */
export const MAX_PEELED_LAYERS = 16;

/** What the loop learned that the next decision needs. */
export type StackHints = Pick<MountObservation, 'topLayerBusy'>;

/** How applying the removal of a top layer went. */
export type PeelOutcome = 'peeled' | 'busy';

/** The plan that no longer removes a layer (not applied yet), and how many layers went before it. */
export interface SettledPlan<P extends Plan> {
  plan: P;
  peeled: number;
  /** Why the first removed layer was replaced, when it was stale (the result's `staleReason`). */
  staleReason?: StaleReason;
}

/**
 * Decides, applies each plan that removes the top of a stack, and decides again, until a plan
 * does something else; that one is returned unapplied. A top that could not be unmounted because
 * files are open on it (`busy`) is decided again with {@link StackHints.topLayerBusy}: it stays.
 *
 * @param decide Observes (afresh after a removal) and decides.
 * @param peel Applies a plan that removes a top layer.
 * @throws {@link InvalidVolumeError} layers are still stacked after {@link MAX_PEELED_LAYERS} went
 * @throws whatever `decide` or `peel` throws
 */
export async function settleStack<P extends Plan>(decide: (hints: StackHints) => Promise<P>, peel: (plan: P) => Promise<PeelOutcome>): Promise<SettledPlan<P>> {
  let hints: StackHints = {};
  let staleReason: StaleReason | undefined;
  for (let peeled = 0; ; ) {
    const plan = await decide(hints);
    if (!looksAgain(plan)) return { plan, peeled, ...(staleReason === undefined ? {} : { staleReason }) };
    if (peeled >= MAX_PEELED_LAYERS || hints.topLayerBusy === true) {
      throw new InvalidVolumeError(plan.mountPath, `The mount ${plan.mountPath} still has mounts stacked after ${peeled} were removed; it was left as it is`);
    }
    if ((await peel(plan)) === 'busy') {
      hints = { topLayerBusy: true };
    } else {
      peeled += 1;
      staleReason ??= plan.operation === 'disconnect' ? undefined : plan.staleReason;
    }
  }
}
