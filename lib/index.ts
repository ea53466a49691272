export type { AttachmentStore, AttachmentTable } from './attachments/attachment-store.js';
export { attachmentTableToJSON } from './attachments/attachment-table-to-json.js';
export type { AttachmentTableJSON } from './attachments/attachment-table-to-json.js';
export { FileAttachmentStore } from './attachments/file-attachment-store.js';
export type { FileAttachmentStoreOptions } from './attachments/file-attachment-store.js';
export { MemoryAttachmentStore } from './attachments/memory-attachment-store.js';
export type { Command, CommandResult, CommandRunner, RunOptions } from './commands/command-runner.js';
export { ExecaCommandRunner } from './commands/execa-command-runner.js';
export type { ExecaCommandRunnerOptions } from './commands/execa-command-runner.js';
export { checkDiskInfo, DISK_BUSES, DISK_DEVICE_TYPES } from './drivers/check-disk-info.js';
export type { ConnectionData, ConnectionInfo, DiskBus, DiskDeviceType, DiskInfo, InstanceRef, QosSpecs } from './drivers/connection-info.js';
export { FileSystemVolumeDriver } from './drivers/file-system-volume-driver.js';
export { HELPER_EXIT, helperCommands } from './drivers/helper-commands.js';
export type { HelperCommands } from './drivers/helper-commands.js';
export type { FileSystemVolumeDriverOptions, MountHealth, ReconcileOptions, ReconcileReport, ResolvedVolume } from './drivers/file-system-volume-driver.js';
export { QuobyteVolumeDriver } from './drivers/quobyte-volume-driver.js';
export type { QuobyteVolumeDriverOptions } from './drivers/quobyte-volume-driver.js';
export { VolumeDriver } from './drivers/volume-driver.js';
export type { ConnectResult, DisconnectResult, ExtendVolumeOptions, GetConfigOptions, VolumeOperationOptions } from './drivers/volume-driver.js';
export type { RepairMountOptions, RepairResult } from './drivers/volume-driver.js';
export { decideConnect } from './plans/decide-connect.js';
export { decideDisconnect } from './plans/decide-disconnect.js';
export { decideRepair } from './plans/decide-repair.js';
export { formatCommand, formatPlan } from './plans/format-plan.js';
export type { DecisionSettings, KnownHealthy, MountObservation } from './plans/observation.js';
export type { ConnectAction, ConnectPlan, DisconnectPlan, DisconnectReason, MountCommands, Plan, PlanStep, RunPurpose } from './plans/plan-step.js';
export type { RepairOutcome, RepairPlan } from './plans/plan-step.js';
export {
  AttachmentStoreError,
  CommandFailedError,
  CommandNotFoundError,
  CommandTimeoutError,
  InvalidConnectionInfoError,
  InsecureMountBaseError,
  InvalidVolumeError,
  isVolumeDriverError,
  MountLockError,
  StaleVolumeMountError,
  UnsafeImageError,
  VolumeDriverError,
  VolumeMountError,
  VolumeUnmountError,
  VolumeUnresponsiveError,
  VOLUME_DRIVER_ERROR_CODES,
} from './errors.js';
export type { StaleReason, VolumeDriverErrorCode, VolumeDriverErrorOptions } from './errors.js';
export type { FileSystemProbe, FuseAbortResult, MountEntry, PathStat, ProbeCall, ProbeCallResult, ProbeOptions } from './filesystem/file-system-probe.js';
export { NodeFileSystemProbe } from './filesystem/node-file-system-probe.js';
export type { NodeFileSystemProbeOptions } from './filesystem/node-file-system-probe.js';
export type { ProbeChildPoolOptions } from './filesystem/probe-child-pool.js';
export { parseMountInfo } from './filesystem/parse-mount-info.js';
export { checkMountBase } from './filesystem/check-mount-base.js';
export type { MountBaseOptions } from './filesystem/check-mount-base.js';
export { ensureMountDirectory } from './filesystem/ensure-mount-directory.js';
export { findMisplacedMounts } from './filesystem/find-misplaced-mounts.js';
export type { ExpectedMount } from './filesystem/find-misplaced-mounts.js';
export { checkImage } from './images/image-gate.js';
export type { BackingImage, CheckImageOptions, ImageFormat, ImageGateResult, ImageReader } from './images/image-gate.js';
export { parseQcow2Header } from './images/qcow2-header.js';
export type { Qcow2Header, Qcow2HeaderResult } from './images/qcow2-header.js';
export { CHANNELS, subscribeChannel } from './observability/channels.js';
export type {
  BusyMessage,
  ChannelKind,
  ChannelMessages,
  CommandMessage,
  MountMessage,
  RepairMessage,
  ReuseMessage,
  UnmountMessage,
  UnresponsiveMessage,
} from './observability/channels.js';
export { instrumentRunner } from './observability/instrument-runner.js';
export type { InstrumentRunnerOptions } from './observability/instrument-runner.js';
export type { Logger } from './observability/logger.js';
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
  GuestDiskBackingStore,
  GuestDiskBlockIo,
  GuestDiskConfig,
  GuestDiskDriveAddress,
  GuestDiskEncryption,
  GuestDiskIotune,
  IotuneKey,
} from './libvirt/guest-disk-config.js';
