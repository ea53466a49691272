export type { AttachmentStore, AttachmentTable } from './attachments/attachment-store.js';
export { FileAttachmentStore } from './attachments/file-attachment-store.js';
export type { FileAttachmentStoreOptions } from './attachments/file-attachment-store.js';
export { MemoryAttachmentStore } from './attachments/memory-attachment-store.js';
export type { Command, CommandResult, CommandRunner, RunOptions } from './commands/command-runner.js';
export { ExecaCommandRunner } from './commands/execa-command-runner.js';
export type { ExecaCommandRunnerOptions } from './commands/execa-command-runner.js';
export type { ConnectionData, ConnectionInfo, DiskInfo, InstanceRef, QosSpecs } from './drivers/connection-info.js';
export { FileSystemVolumeDriver } from './drivers/file-system-volume-driver.js';
export type { FileSystemVolumeDriverOptions, MountHealth, ResolvedVolume } from './drivers/file-system-volume-driver.js';
export { QuobyteVolumeDriver } from './drivers/quobyte-volume-driver.js';
export type { QuobyteVolumeDriverOptions } from './drivers/quobyte-volume-driver.js';
export { VolumeDriver } from './drivers/volume-driver.js';
export type { DisconnectResult, VolumeOperationOptions } from './drivers/volume-driver.js';
export {
  AttachmentStoreError,
  CommandFailedError,
  CommandNotFoundError,
  CommandTimeoutError,
  InvalidConnectionInfoError,
  InsecureMountBaseError,
  InvalidVolumeError,
  MountLockError,
  StaleVolumeMountError,
  UnsafeImageError,
  VolumeDriverError,
  VolumeMountError,
  VolumeUnmountError,
  VolumeUnresponsiveError,
} from './errors.js';
export type { StaleReason, VolumeDriverErrorOptions } from './errors.js';
export type { FileSystemProbe, FuseAbortResult, MountEntry, PathStat, ProbeOptions } from './filesystem/file-system-probe.js';
export { NodeFileSystemProbe } from './filesystem/node-file-system-probe.js';
export type { NodeFileSystemProbeOptions } from './filesystem/node-file-system-probe.js';
export { parseMountInfo } from './filesystem/parse-mount-info.js';
export { defaultMountLockFor } from './locks/default-mount-lock-for.js';
export { FileMountLock } from './locks/file-mount-lock.js';
export { MemoryMountLock } from './locks/memory-mount-lock.js';
export type { MountLock, MountLockOptions } from './locks/mount-lock.js';
export { buildGuestDiskConfig } from './libvirt/build-guest-disk-config.js';
export type { BuildGuestDiskConfigOptions } from './libvirt/build-guest-disk-config.js';
export { formatDiskXml } from './libvirt/format-disk-xml.js';
export { IOTUNE_KEYS } from './libvirt/guest-disk-config.js';
export type {
  DiskCacheMode,
  DiskIoMode,
  GuestDiskBlockIo,
  GuestDiskConfig,
  GuestDiskDriveAddress,
  GuestDiskEncryption,
  GuestDiskIotune,
  IotuneKey,
} from './libvirt/guest-disk-config.js';
