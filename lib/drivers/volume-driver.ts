import type { StaleReason } from '../errors.js';
import type { BackingImage } from '../images/image-gate.js';
import type { GuestDiskConfig } from '../libvirt/guest-disk-config.js';
import type { ConnectionInfo, DiskInfo, InstanceRef } from './connection-info.js';

/** Options for {@link VolumeDriver.connectVolume} and {@link VolumeDriver.disconnectVolume}. */
export interface VolumeOperationOptions {
  /** Abort the operation: a running command is killed and the call rejects with `AbortError`. */
  signal?: AbortSignal;
  /**
   * Repair a hung mount even while it is in use (attachments recorded, or files open). Its
   * guests lose their disk: every I/O on the old mount fails. An explicit operator act, never
   * the default.
   * @default false
   */
  forceRepair?: boolean;
}

/** Options of a deliberate repair (`FileSystemVolumeDriver.repairMount`). */
export interface RepairMountOptions {
  /** Abort the repair: a running command is killed and the call rejects with `AbortError`. */
  signal?: AbortSignal;
  /**
   * Repair a hung mount even while it is in use (attachments recorded, or files open): its
   * FUSE connection is aborted and the share mounted again. Guests on the old mount lose their
   * disk: every I/O on it fails with `ENOTCONN` or `ECONNABORTED`.
   * @default false
   */
  force?: boolean;
}

/** What a deliberate repair did. */
export interface RepairResult {
  /** The mount point. */
  mountPath: string;
  /** `repaired`: a stale or hung mount was replaced. `healthy`, `not-mounted`: nothing was done. */
  outcome: 'repaired' | 'healthy' | 'not-mounted';
  /** For a repair: why the mount that was there was replaced. */
  staleReason?: StaleReason;
}

/** Options for {@link VolumeDriver.extendVolume}. */
export interface ExtendVolumeOptions {
  /** Stop waiting: the call rejects with an `AbortError` naming the operation and image. */
  signal?: AbortSignal;
  /** How long to wait for the image to grow, in milliseconds (default: the driver's `commandTimeoutMs`). */
  timeoutMs?: number;
}

/** Options for {@link VolumeDriver.getConfig}. */
export interface GetConfigOptions {
  /** UUID of the libvirt secret with the volume's LUKS passphrase; required for `data.encrypted`. */
  encryptionSecretUuid?: string;
  /** The backing chain to declare (default: what the image gate found at the last connect). */
  backingChain?: readonly BackingImage[];
}

/** What {@link VolumeDriver.connectVolume} did. */
export interface ConnectResult {
  /** Where the share is mounted. */
  mountPath: string;
  /** The disk image to hand to libvirt. */
  devicePath: string;
  /** `mounted`: nothing was mounted before. `reused`: a healthy mount was there. `repaired`: a stale or hung mount was replaced. */
  action: 'mounted' | 'reused' | 'repaired';
  /** For a repair: why the mount that was there was replaced. */
  staleReason?: StaleReason;
}

/** What {@link VolumeDriver.disconnectVolume} did with the shared mount. */
export type DisconnectResult = {
  /** Whether this call unmounted the share. */
  unmounted: boolean;
  /**
   * `unmounted`: this was the last attachment, and the share is gone. `in-use`: other
   * attachments remain, so the share stays. `not-mounted`: nothing of ours was mounted there.
   * `busy`: the last attachment went, but the kernel refused the unmount because something
   * still holds files open; the share stays and a later disconnect or connect deals with it.
   * `not-attached`: this attachment was never recorded, and others remain on the share.
   */
  reason: 'unmounted' | 'in-use' | 'not-mounted' | 'busy' | 'not-attached';
};

/**
 * The contract every volume backend fulfils: make a volume reachable on this host, describe it
 * to libvirt, and let it go again.
 */
export abstract class VolumeDriver {
  /**
   * The libvirt `<disk>` model for this volume (see `formatDiskXml`). Touches nothing on the host.
   * @throws {@link InvalidConnectionInfoError} bad or dangerous connection info
   */
  abstract getConfig(ci: ConnectionInfo, diskInfo: DiskInfo, options?: GetConfigOptions): GuestDiskConfig;

  /**
   * Makes the volume reachable on this host for `instance`.
   * @throws {@link InvalidConnectionInfoError} bad or dangerous input; nothing was run
   * @throws {@link VolumeMountError} the share could not be mounted, or is not valid afterwards
   */
  abstract connectVolume(ci: ConnectionInfo, instance: InstanceRef, options?: VolumeOperationOptions): Promise<ConnectResult>;

  /**
   * Releases the volume for `instance`.
   * @throws {@link InvalidConnectionInfoError} bad or dangerous input; nothing was run
   * @throws {@link VolumeUnmountError} an unmount that had to succeed did not
   */
  abstract disconnectVolume(ci: ConnectionInfo, instance: InstanceRef, options?: VolumeOperationOptions): Promise<DisconnectResult>;

  /**
   * Reports the volume's size in bytes once it is at least `requestedSize` (the backend has
   * grown the file).
   * @throws {@link InvalidConnectionInfoError} bad or dangerous input
   */
  abstract extendVolume(ci: ConnectionInfo, instance: InstanceRef, requestedSize: number, options?: ExtendVolumeOptions): Promise<number>;
}
