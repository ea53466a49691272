/**
 * The libvirt `<disk>` element as a plain data model: Nova's `LibvirtConfigGuestDisk`, limited to
 * what a file-backed volume uses and with the fields in camelCase.
 *
 * `buildGuestDiskConfig()` fills it from connection info; `formatDiskXml()` writes it.
 *
 * @module
 */

/**
 * The `<iotune>` children this library writes, in the order libvirt itself writes them
 * (`virDomainDiskDefFormatIotune`). Nova writes read/write before total
 * (`LibvirtConfigGuestDisk._format_iotune`); libvirt reads either order, but its schema check
 * (`virsh define --validate`) rejects Nova's order when read and write limits are set for both
 * bytes and IOPS, so the order libvirt writes is the one that always validates. It is also the
 * allow-list for `qos_specs`: any other key is ignored.
 */
export const IOTUNE_KEYS = [
  'total_bytes_sec',
  'read_bytes_sec',
  'write_bytes_sec',
  'total_iops_sec',
  'read_iops_sec',
  'write_iops_sec',
  'total_bytes_sec_max',
  'read_bytes_sec_max',
  'write_bytes_sec_max',
  'total_iops_sec_max',
  'read_iops_sec_max',
  'write_iops_sec_max',
  'size_iops_sec',
] as const;

/** One of the {@link IOTUNE_KEYS}. */
export type IotuneKey = (typeof IOTUNE_KEYS)[number];

/**
 * QoS limits: each present key becomes `<iotune><key>value</key></iotune>`. Values are kept as
 * the decimal strings libvirt reads.
 */
export type GuestDiskIotune = { [K in IotuneKey]?: string };

/** libvirt's `<driver cache=...>` modes. */
export type DiskCacheMode = 'none' | 'writethrough' | 'writeback' | 'directsync' | 'unsafe';

/** libvirt's `<driver io=...>` modes. */
export type DiskIoMode = 'native' | 'threads' | 'io_uring';

/** `<blockio>`: the block sizes the guest sees, in bytes, as decimal strings. */
export interface GuestDiskBlockIo {
  /** `logical_block_size` attribute. */
  logicalBlockSize?: string;
  /** `physical_block_size` attribute. */
  physicalBlockSize?: string;
}

/** `<address type="drive" controller=... unit=.../>`: a fixed slot on a SCSI controller. */
export interface GuestDiskDriveAddress {
  /** Always `drive`. */
  type: 'drive';
  /** Index of the SCSI controller (Nova always uses `0`). */
  controller: number;
  /** Unit number on that controller. */
  unit: number;
}

/** `<encryption format="luks"><secret type="passphrase" uuid=.../></encryption>`. */
export interface GuestDiskEncryption {
  /** Always `luks`. */
  format: 'luks';
  /** UUID of the libvirt secret that holds the LUKS passphrase. */
  secretUuid: string;
}

/** One image below the volume: `<backingStore type="file"><format type=.../><source file=.../>`. */
export interface GuestDiskBackingStore {
  /** `<format type=...>`: the format the overlay records for it. */
  format: 'raw' | 'qcow2';
  /** `<source file=...>`: the image file on the host. */
  sourcePath: string;
}

/** The libvirt `<disk>` element of a file-backed volume. */
export interface GuestDiskConfig {
  /** `<disk type=...>`. Only file-backed disks are modelled. */
  sourceType: 'file';
  /** `<disk device=...>`: `disk`, `cdrom`, `lun`, ... (Nova's `disk_info.type`). */
  sourceDevice: string;
  /** `<driver name=...>`: the hypervisor backend, `qemu` for QEMU/KVM. */
  driverName?: string;
  /** `<driver type=...>`: the image format. */
  driverFormat: 'raw' | 'qcow2';
  /** `<driver cache=...>`. */
  driverCache: DiskCacheMode;
  /** `<driver io=...>`. */
  driverIo?: DiskIoMode;
  /** `<driver discard=...>`: pass guest discards (TRIM) down to the image file. */
  driverDiscard?: 'unmap';
  /** `<alias name=...>`: a user alias, which libvirt requires to start with `ua-`. */
  alias?: string;
  /** `<source file=...>`: the image file on the host. */
  sourcePath: string;
  /**
   * What libvirt may open besides the image. Absent: nothing is written, and libvirt reads the
   * chain from the image itself (never do that with an image from a share). Empty: `<backingStore/>`,
   * the image has no backing file. Otherwise the explicit chain, top first, each level nested in
   * the one above and the last ended by `<backingStore/>`.
   */
  backingChain?: readonly GuestDiskBackingStore[];
  /** `<target dev=...>`: the device name in the guest, e.g. `vdb`. */
  targetDev: string;
  /** `<target bus=...>`: `virtio`, `scsi`, `sata`, ... */
  targetBus: string;
  /** `<serial>`. Not written for a `lun` device, as in Nova. */
  serial?: string;
  /** `<iotune>`; written only when at least one key is set. */
  iotune?: GuestDiskIotune;
  /** `<blockio>`; written only when at least one size is set. */
  blockio?: GuestDiskBlockIo;
  /** `<readonly/>`. */
  readOnly: boolean;
  /** `<shareable/>`: several guests may attach the disk at once. */
  shareable: boolean;
  /** `<address>`. */
  address?: GuestDiskDriveAddress;
  /** `<encryption>`: libvirt opens the LUKS image with the given secret. */
  encryption?: GuestDiskEncryption;
}
