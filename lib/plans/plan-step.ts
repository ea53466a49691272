/**
 * A plan is a value: the ordered steps one operation takes on the host, decided by a pure
 * function of what was observed (see `decide-connect.ts`, `decide-disconnect.ts`). The driver
 * applies it; `--dry-run` prints it. Nothing here does I/O.
 *
 * @module
 */
import type { Command } from '../commands/command-runner.js';
import type { StaleReason, VolumeDriverError } from '../errors.js';

/** What a `run` step is for; the applier treats a failure of each differently. */
export type RunPurpose = 'mount' | 'unmount' | 'lazy-unmount' | 'abort';

/** One thing an operation does, or why it does nothing. */
export type PlanStep =
  | {
      kind: 'run';
      purpose: RunPurpose;
      command: Command;
      /** Run when `command` fails for a reason other than busy: a stale mount's plain unmount falls back to a lazy one. */
      fallback?: Command;
    }
  | { kind: 'abort-fuse'; mountPath: string; minor: number }
  /** Makes the mount directory, or checks the one already there (`existing`): never a link, ours, under the base. */
  | { kind: 'create-directory'; path: string; existing?: true }
  | { kind: 'remove-directory'; path: string }
  | { kind: 'verify-mount'; mountPath: string }
  | { kind: 'check-image'; devicePath: string }
  | { kind: 'record-attachment'; id: string; mountPath: string }
  | { kind: 'remove-attachment'; id: string; mountPath: string }
  | { kind: 'refuse'; error: VolumeDriverError }
  | { kind: 'nothing-to-do'; why: string }
  /** The top of a stack was removed: observe the layer below and decide again (always the last step). */
  | { kind: 'look-again'; why: string };

/** How a connect ends when every step succeeds. */
export type ConnectAction = 'mounted' | 'reused' | 'repaired';

/** How a disconnect ends when every step succeeds (the applier may learn `busy` or `not-mounted`). */
export type DisconnectReason = 'unmounted' | 'in-use' | 'not-mounted' | 'busy' | 'not-attached';

/** A decided operation. */
export interface ConnectPlan {
  operation: 'connect';
  mountPath: string;
  steps: PlanStep[];
  /** What the connect reports when every step succeeds. */
  action: ConnectAction;
  /** Why the mount there is replaced, for a repair. */
  staleReason?: StaleReason;
}

/** A decided disconnect. */
export interface DisconnectPlan {
  operation: 'disconnect';
  mountPath: string;
  steps: PlanStep[];
  /** What the disconnect reports when every step succeeds. */
  reason: DisconnectReason;
}

/** How a deliberate repair ends when every step succeeds. */
export type RepairOutcome = 'repaired' | 'healthy' | 'not-mounted';

/** A decided repair (`repairMount`): a connect's removal and mount, no attachment recorded. */
export interface RepairPlan {
  operation: 'repair';
  mountPath: string;
  steps: PlanStep[];
  /** What the repair reports when every step succeeds. */
  outcome: RepairOutcome;
  /** Why the mount there is replaced. */
  staleReason?: StaleReason;
}

/** Any plan. */
export type Plan = ConnectPlan | DisconnectPlan | RepairPlan;

/** The commands a backend (or the privileged helper) uses for one export. */
export interface MountCommands {
  /** The full mount command, `systemd-run --scope` included where it applies. */
  mount: Command;
  /** `umount --no-canonicalize <path>`, or the lazy `umount -l --no-canonicalize <path>`. */
  unmount(lazy: boolean): Command;
  /**
   * A command that aborts the FUSE connection (the privileged helper's `abort`). Without one,
   * the driver writes to `fusectl` itself (an `abort-fuse` step).
   */
  abort?: Command;
  /** The abort for a deliberate repair (`forceRepair`): the helper's `abort --force`. */
  forceAbort?: Command;
  /** The privileged helper creates and removes the mount directory itself. */
  managesDirectories?: boolean;
}
