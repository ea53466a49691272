/**
 * The wire shape Cinder returns from `initialize_connection`, kept as it is so callers pass it
 * straight through.
 *
 * @module
 */

/** Per-volume QoS limits; each allowed key becomes an `<iotune>` child. Unknown keys are ignored. */
export type QosSpecs = Readonly<Record<string, string | number>>;

/** The `data` part of the connection info. */
export interface ConnectionData {
  /**
   * The share to mount, in the backend's form: Quobyte
   * `[quobyte://]host[:port][,host[:port]...]/volume`; NFS (the worked example) `host:/path`.
   */
  export: string;
  /** The disk image file inside the export, one path component (Cinder: `volume-<uuid>`). */
  name: string;
  /**
   * Image format, trusted (the image's own header never decides it). Absent or `null` (Cinder's
   * `None`) is `raw`.
   * @default 'raw'
   */
  format?: 'raw' | 'qcow2' | null;
  /**
   * The volume is LUKS-encrypted (Cinder sets it from the volume type's encryption). `getConfig`
   * then needs the libvirt secret's UUID and refuses without it; the image gate allows a
   * LUKS-encrypted qcow2 image only then.
   */
  encrypted?: boolean;
  /** `ro` adds `<readonly/>`; `rw` adds nothing. */
  access_mode?: 'ro' | 'rw';
  /** `true` (the boolean, not a string) adds `discard="unmap"`. */
  discard?: boolean;
  /** QoS limits for `<iotune>`. */
  qos_specs?: QosSpecs | null;
  /** Guest-visible logical block size in bytes, for `<blockio>`. */
  logical_block_size?: string | number;
  /** Guest-visible physical block size in bytes, for `<blockio>`. */
  physical_block_size?: string | number;
  /** The Cinder volume id; used for the attachment id and the `ua-` alias. */
  volume_id?: string;
}

/** Connection info as Cinder returns it. */
export interface ConnectionInfo {
  /**
   * The backend this connection info is for (`quobyte` for `QuobyteVolumeDriver`). A driver
   * refuses another value; an absent one is accepted.
   */
  driver_volume_type?: string;
  /** The volume's serial (Cinder's volume id); written as `<serial>`. */
  serial?: string;
  /** The volume may be attached to several guests: adds `<shareable/>`. */
  multiattach?: boolean;
  /** Where the volume is and how the guest sees it. */
  data: ConnectionData;
}

/**
 * `<target bus=...>`: the buses libvirt's domain schema (`domaincommon.rng`, `diskTarget`)
 * accepts, less `uml`, which it keeps only as "NOT USED ANYMORE".
 */
export type DiskBus = 'ide' | 'fdc' | 'scsi' | 'virtio' | 'xen' | 'usb' | 'sata' | 'sd';

/** `<disk device=...>`: the device types libvirt's domain schema accepts. */
export type DiskDeviceType = 'disk' | 'cdrom' | 'floppy' | 'lun';

/**
 * Where the disk goes in the guest (Nova's `disk_info`). The types are closed sets so a typo
 * (`bus: 'virtoi'`) does not compile; `checkDiskInfo()` refuses the same at run time for
 * JavaScript callers.
 */
export interface DiskInfo {
  /** `virtio`, `scsi`, `sata`, `ide`, ... */
  bus: DiskBus;
  /** Target device name in the guest, e.g. `vdb`: `fd`, `hd`, `sd`, `vd`, `xvd` or `ubd` and a suffix, as libvirt's schema wants. */
  dev: string;
  /** `disk`, `cdrom`, `lun`, `floppy` (`<disk device=...>`). */
  type: DiskDeviceType;
  /** SCSI unit number: adds `<address type="drive" controller="0" unit="N"/>` on the `scsi` bus. */
  unit?: number;
}

/** The guest a volume is attached to. */
export interface InstanceRef {
  /** The guest's UUID (libvirt's domain UUID); one path component, part of the attachment id. */
  uuid: string;
}
