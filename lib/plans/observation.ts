/**
 * What the driver saw before deciding: the input of the pure decision functions.
 *
 * @module
 */
import type { MountEntry, PathStat } from '../filesystem/file-system-probe.js';
import type { StaleReason, StaleVolumeMountError } from '../errors.js';

/** What the host shows at a mount path. */
export type MountHealth =
  | {
      /** Ours, and it answers as it should. */
      state: 'healthy';
      /** The mount-table entry (the top one, where mounts are stacked). */
      entry: MountEntry;
      /** The `stat` of the mount's root. */
      stat: PathStat;
    }
  | {
      /** Ours, but unusable: unmount it before mounting again. */
      state: 'stale';
      /** The mount-table entry. */
      entry: MountEntry;
      /** Why: the client is gone, the root looks wrong, or no answer within `probeTimeoutMs`. */
      reason: StaleReason;
      /** The error to throw or keep as a cause. */
      error: StaleVolumeMountError;
    }
  | {
      /** Another file system is mounted at the path; it is never touched. */
      state: 'foreign';
      /** Its mount-table entry. */
      entry: MountEntry;
    }
  | {
      /** Nothing is mounted at the path. */
      state: 'absent';
    };

/**
 * A mount validated moments ago and still the same device (the fast path): healthy without a
 * mount-table read.
 */
export interface KnownHealthy {
  state: 'known-healthy';
}

/** What one operation observed about its mount point. */
export interface MountObservation {
  /** `<base>/<md5 of the export>`. */
  mountPath: string;
  /** `<mountPath>/<data.name>`. */
  devicePath: string;
  /** This call's attachment id. */
  attachmentId: string;
  /** Every attachment recorded on this mount point (this call's included when recorded). */
  attachments: readonly string[];
  /** The mount's health; `undefined` when the decision does not need it (others still attached). */
  health: MountHealth | KnownHealthy | undefined;
  /** Whether the mount directory exists (only looked at where nothing is mounted). */
  directoryExists?: boolean;
  /** Processes holding files open under the mount (only looked at for a hung mount or a stack). */
  openBy?: number;
  /**
   * How many of our mounts are stacked at the path (only looked at with a full check; missing
   * means one). Only the top one is reachable by the path; a guest that opened its disk before
   * the top was mounted still works on the one below.
   */
  layers?: number;
  /** The healthy top of a stack could not be unmounted: files are open on it. It stays, and is used. */
  topLayerBusy?: boolean;
}

/** The settings that change a decision. */
export interface DecisionSettings {
  /** Repair a hung mount even when it is in use (an explicit operator act). */
  forceRepair: boolean;
}
