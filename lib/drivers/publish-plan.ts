/**
 * What a decided plan tells observers before it is applied: a repair, or a hung mount left
 * alone (`lib/observability/channels.ts`).
 *
 * @module
 */
import { VolumeUnresponsiveError } from '../errors.js';
import { publish } from '../observability/channels.js';
import type { Plan } from '../plans/plan-step.js';
import type { MountRequest } from './mount-manager.js';

/** Publishes `repair` and `unresponsive` for a plan about to be applied (a connect's repair, or a deliberate one). */
export function publishPlan(plan: Plan, request: MountRequest, timeoutMs: number): void {
  const { mountPath, export: exportName } = request.volume;
  const refusal = plan.steps.find((step) => step.kind === 'refuse');
  if (refusal?.kind === 'refuse' && refusal.error instanceof VolumeUnresponsiveError) {
    publish('unresponsive', () => ({ mountPath, timeoutMs, leftAlone: true }));
  }
  if (plan.operation !== 'disconnect' && plan.staleReason !== undefined && refusal === undefined) {
    const reason = plan.staleReason;
    if (reason === 'unresponsive') publish('unresponsive', () => ({ mountPath, timeoutMs, leftAlone: false }));
    publish('repair', () => ({ mountPath, export: exportName, reason }));
  }
}
