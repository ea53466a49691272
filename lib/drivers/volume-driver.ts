import type { GuestDiskConfig } from '../libvirt/guest-disk-config.js';
import type { ConnectionInfo, DiskInfo, InstanceRef } from './connection-info.js';

/** Options for {@link VolumeDriver.connectVolume} and {@link VolumeDriver.disconnectVolume}. */
export interface VolumeOperationOptions {
  /** Abort the operation: a running command is killed and the call rejects with `AbortError`. */
  signal?: AbortSignal;
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
   */
  reason: 'unmounted' | 'in-use' | 'not-mounted' | 'busy';
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
  abstract getConfig(ci: ConnectionInfo, diskInfo: DiskInfo): GuestDiskConfig;

  /**
   * Makes the volume reachable on this host for `instance`.
   * @throws {@link InvalidConnectionInfoError} bad or dangerous input; nothing was run
   * @throws {@link VolumeMountError} the share could not be mounted, or is not valid afterwards
   */
  abstract connectVolume(ci: ConnectionInfo, instance: InstanceRef, options?: VolumeOperationOptions): Promise<void>;

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
  abstract extendVolume(ci: ConnectionInfo, instance: InstanceRef, requestedSize: number): Promise<number>;
}
