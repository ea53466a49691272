import { createHash } from 'node:crypto';
import type { AttachmentStore, AttachmentTable } from '../attachments/attachment-store.js';
import { attachmentTableToJSON } from '../attachments/attachment-table-to-json.js';
import type { Command, CommandRunner } from '../commands/command-runner.js';
import { InvalidConnectionInfoError, type StaleReason } from '../errors.js';
import type { FileSystemProbe, MountEntry, PathStat } from '../filesystem/file-system-probe.js';
import { buildGuestDiskConfig } from '../libvirt/build-guest-disk-config.js';
import type { GuestDiskConfig } from '../libvirt/guest-disk-config.js';
import type { MountHealth } from '../plans/observation.js';
import type { ConnectPlan, DisconnectPlan, MountCommands, RepairPlan } from '../plans/plan-step.js';
import { checkDiskInfo } from './check-disk-info.js';
import type { ConnectionInfo, DiskInfo, InstanceRef } from './connection-info.js';
import { detectSystemd } from './detect-systemd.js';
import { assembleDriverParts } from './driver-parts.js';
import { joinPath, type CheckedDriverOptions, type FileSystemVolumeDriverOptions } from './driver-options.js';
import { helperCommands } from './helper-commands.js';
import { mountCommands, releaseCommands } from './mount-commands.js';
import type { MountManager, MountRequest } from './mount-manager.js';
import { reconcileMounts, type ReconcileOptions, type ReconcileReport } from './reconcile.js';
import type { MountInspector, MountJudge } from './mount-inspector.js';
import type { ResolvedVolume } from './resolved-volume.js';
import { attachmentIdOf, validateConnectionInfo } from './validate-connection-info.js';
import { waitForSize } from './wait-for-size.js';
import { VolumeDriver, type ConnectResult, type DisconnectResult, type ExtendVolumeOptions, type GetConfigOptions, type RepairMountOptions, type RepairResult, type VolumeOperationOptions } from './volume-driver.js';

export type { FileSystemVolumeDriverOptions } from './driver-options.js';
export type { MountHealth } from '../plans/observation.js';
export type { ResolvedVolume } from './resolved-volume.js';
export type { ReconcileOptions, ReconcileReport } from './reconcile.js';
export { foreignMountError } from '../plans/decide-connect.js';

/**
 * The shared machinery of every driver that mounts a network file system and hands libvirt a
 * file on it: the mount path, a lock per mount point, and the observe → decide → apply cycle
 * whose decisions live in `lib/plans/` (the driver's specification as pure functions).
 *
 * A backend supplies its mount command and health check: {@link driverVolumeType},
 * {@link checkExport}, {@link buildMountCommand}, {@link isOwnMount}, and optionally
 * {@link normalizeExport} and {@link checkMountRoot}.
 */
export abstract class FileSystemVolumeDriver extends VolumeDriver {
  /** `driver_volume_type` this driver serves (`quobyte`, `nfs`, ...). */
  protected abstract readonly driverVolumeType: string;

  readonly #options: CheckedDriverOptions;
  /** How commands run: the `runner` option, or an `ExecaCommandRunner`. */
  protected readonly runner: CommandRunner;
  /** How the host is looked at: the `probe` option, or a `NodeFileSystemProbe`. */
  protected readonly probe: FileSystemProbe;
  /** Who uses which mount point: the `attachments` option, or the default store. */
  protected readonly attachments: AttachmentStore;
  /** Timeout of each mount and unmount command, in milliseconds. */
  protected readonly commandTimeoutMs: number;
  /** How long a `stat` of a mount may take before the mount counts as hung, in milliseconds. */
  protected readonly probeTimeoutMs: number;
  #systemd: Promise<boolean> | undefined;
  readonly #inspector: MountInspector;
  readonly #manager: MountManager;
  readonly #judge: MountJudge;

  /** @throws TypeError when an option has the wrong type or range. */
  constructor(options: FileSystemVolumeDriverOptions) {
    super();
    // The backend's methods are looked up at call time: subclasses are constructed after us.
    this.#judge = { isOwnMount: (entry) => this.isOwnMount(entry), checkMountRoot: (stat) => this.checkMountRoot(stat) };
    const parts = assembleDriverParts(options, this.#judge);
    ({ options: this.#options, runner: this.runner, probe: this.probe, store: this.attachments, inspector: this.#inspector, manager: this.#manager } = parts);
    this.commandTimeoutMs = this.#options.commandTimeoutMs;
    this.probeTimeoutMs = this.#options.probeTimeoutMs;
  }

  // ---- what a backend supplies -------------------------------------------------------------

  /** Turns the export as given into the one that is mounted and hashed. The default keeps it. */
  protected normalizeExport(exportName: string): string {
    return exportName;
  }

  /** Refuses a normalised export that must not reach argv. @throws {@link InvalidConnectionInfoError} */
  protected abstract checkExport(exportName: string): void;

  /** The client's own mount command; the driver adds `systemd-run --scope` where systemd runs. */
  protected abstract buildMountCommand(exportName: string, mountPath: string): Command;

  /** Whether a mount-table entry is this backend's file system. */
  protected abstract isOwnMount(entry: MountEntry): boolean;

  /** A reason the mount's root looks stale, or `undefined` when it looks healthy. */
  protected checkMountRoot(_stat: PathStat): StaleReason | undefined {
    return undefined;
  }

  // ---- paths --------------------------------------------------------------------------------

  /**
   * Checks connection info and resolves its host paths.
   * @throws {@link InvalidConnectionInfoError}
   */
  resolveVolume(ci: ConnectionInfo): ResolvedVolume {
    validateConnectionInfo(ci, this.driverVolumeType);
    const exportName = this.normalizeExport(ci.data.export);
    this.checkExport(exportName);
    const mountPath = joinPath(this.#options.mountPointBase, createHash('md5').update(exportName, 'utf8').digest('hex'));
    return { export: exportName, mountPath, devicePath: joinPath(mountPath, ci.data.name) };
  }

  /**
   * `<mountPointBase>/<md5 hex of the normalised export>`: the directory Nova and Cinder use, so
   * hosts can switch without remounting.
   * @throws {@link InvalidConnectionInfoError}
   */
  getMountPath(ci: ConnectionInfo): string {
    return this.resolveVolume(ci).mountPath;
  }

  /**
   * The disk image: mount path + `/` + `data.name`, always inside the mount path.
   * @throws {@link InvalidConnectionInfoError}
   */
  getDevicePath(ci: ConnectionInfo): string {
    return this.resolveVolume(ci).devicePath;
  }

  /** The configured base directory of the mount points. */
  get mountPointBase(): string {
    return this.#options.mountPointBase;
  }

  // ---- the contract -------------------------------------------------------------------------

  /**
   * The libvirt `<disk>` model: type `file`, driver `qemu`, cache `none`, io `native`, the
   * backing chain the image gate confined (or `<backingStore/>`), `<encryption>` with the
   * given secret.
   * @throws {@link InvalidConnectionInfoError} bad input, or an encrypted volume without
   * `encryptionSecretUuid` (never attached in clear)
   */
  override getConfig(ci: ConnectionInfo, diskInfo: DiskInfo, options: GetConfigOptions = {}): GuestDiskConfig {
    const { devicePath } = this.resolveVolume(ci);
    checkDiskInfo(diskInfo);
    // The chain the image gate found at this process's last connect; without one, libvirt is
    // told the image has none (`<backingStore/>`) rather than trust its header.
    const backingChain = options.backingChain ?? this.#manager.backingChainOf(devicePath);
    return buildGuestDiskConfig(ci, diskInfo, devicePath, { ...options, ...(backingChain === undefined ? {} : { backingChain }) });
  }

  /**
   * Makes the share reachable and records the attachment, under a lock for this mount point
   * only: observe, decide ({@link decideConnect}), apply. A healthy mount is reused (without a
   * child process), a stale one is mounted again, a hung one in use is left alone, an absent
   * one is mounted; a new mount is validated again and one still not valid is an error.
   * @throws {@link InvalidConnectionInfoError} bad input; nothing was run
   * @throws {@link InvalidVolumeError} another file system occupies the mount path, or the disk
   * image is a symbolic link
   * @throws {@link VolumeUnresponsiveError} the mount is in use and did not answer in time
   * @throws {@link VolumeMountError} the mount command failed, or the mount is not valid after it
   * @throws {@link VolumeUnmountError} a stale mount could not be removed
   */
  override async connectVolume(ci: ConnectionInfo, instance: InstanceRef, options: VolumeOperationOptions = {}): Promise<ConnectResult> {
    return this.#manager.connect(await this.#request(ci, instance), options);
  }

  /**
   * Drops the attachment and unmounts the share when it was the last one on that mount point
   * (a stale mount too), then removes the empty directory: observe, decide
   * ({@link decideDisconnect}), apply. A busy share is reported, not thrown. A foreign file
   * system at the mount path is never unmounted.
   * @throws {@link InvalidConnectionInfoError} bad input; nothing was run
   * @throws {@link VolumeUnmountError} the unmount failed for a reason other than busy
   */
  override async disconnectVolume(ci: ConnectionInfo, instance: InstanceRef, options: VolumeOperationOptions = {}): Promise<DisconnectResult> {
    return this.#manager.disconnect(await this.#request(ci, instance), options);
  }

  /**
   * What {@link connectVolume} would do now, without doing it (the CLI's `--dry-run`).
   * @throws {@link InvalidConnectionInfoError} bad input
   */
  async planConnect(ci: ConnectionInfo, instance: InstanceRef, options: VolumeOperationOptions = {}): Promise<ConnectPlan> {
    return this.#manager.planConnect(await this.#request(ci, instance), options);
  }

  /**
   * What {@link disconnectVolume} would do now, without doing it (the CLI's `--dry-run`).
   * @throws {@link InvalidConnectionInfoError} bad input
   */
  async planDisconnect(ci: ConnectionInfo, instance: InstanceRef, options: VolumeOperationOptions = {}): Promise<DisconnectPlan> {
    return this.#manager.planDisconnect(await this.#request(ci, instance), options);
  }

  /**
   * Repairs the mount of `ci`'s export on purpose, recording no attachment (`libvirt-volume
   * repair`): a stale mount is unmounted and mounted again; a hung one in use only with
   * `force`, and then guests on the old mount lose their disk (every I/O on it fails with
   * `ENOTCONN` or `ECONNABORTED`). A healthy or absent mount is left as it is.
   * @throws {@link InvalidConnectionInfoError} bad input; nothing was run
   * @throws {@link VolumeUnresponsiveError} hung and in use, without `force`; left alone
   * @throws {@link InvalidVolumeError} another file system occupies the mount path; {@link VolumeMountError}, {@link VolumeUnmountError} as for {@link connectVolume}
   */
  async repairMount(ci: ConnectionInfo, options: RepairMountOptions = {}): Promise<RepairResult> {
    return this.#manager.repair(await this.#request(ci), options);
  }

  /** What {@link repairMount} would do now, without doing it (`repair --dry-run`). @throws {@link InvalidConnectionInfoError} bad input */
  async planRepair(ci: ConnectionInfo, options: RepairMountOptions = {}): Promise<RepairPlan> {
    return this.#manager.planRepair(await this.#request(ci), options);
  }

  /**
   * Resolves to the disk image's size in bytes (a qcow2 image's virtual size) once it is at
   * least `requestedSize`, polling until `options.timeoutMs` (default `commandTimeoutMs`) or
   * until `options.signal` aborts.
   * @throws {@link InvalidConnectionInfoError} bad input
   * @throws {@link InvalidVolumeError} the image is missing, a link, or still smaller at the end
   */
  override async extendVolume(ci: ConnectionInfo, instance: InstanceRef, requestedSize: number, options: ExtendVolumeOptions = {}): Promise<number> {
    const volume = this.resolveVolume(ci);
    attachmentIdOf(ci, instance);
    if (!Number.isSafeInteger(requestedSize) || requestedSize < 0) {
      throw new InvalidConnectionInfoError('requestedSize', `must be a non-negative integer, got ${String(requestedSize)}`);
    }
    const how = { timeoutMs: options.timeoutMs ?? this.commandTimeoutMs, probeTimeoutMs: this.probeTimeoutMs, signal: options.signal, what: `extendVolume ${volume.devicePath}` };
    return waitForSize(this.probe, volume, ci.data.format ?? 'raw', requestedSize, how);
  }

  /**
   * Rebuilds the attachment store from the caller's truth (the guests libvirt has defined),
   * typically when an agent starts. Every entry is checked before anything is replaced.
   * @throws {@link InvalidConnectionInfoError} an entry is invalid; the store is unchanged
   */
  async restoreAttachments(list: ReadonlyArray<{ connectionInfo: ConnectionInfo; instance: InstanceRef }>): Promise<void> {
    const table = new Map<string, string[]>();
    for (const { connectionInfo, instance } of list) {
      const { mountPath } = this.resolveVolume(connectionInfo);
      table.set(mountPath, [...(table.get(mountPath) ?? []), attachmentIdOf(connectionInfo, instance)]);
    }
    await this.attachments.replaceAll(table);
  }

  /**
   * Makes the mount table and the attachment store agree under the base: own mounts no
   * attachment needs are unmounted (by the decision a last disconnect takes); attachments whose
   * share is gone, stacked mounts and foreign file systems are reported. Run it when an agent
   * starts, after {@link restoreAttachments}, and after a crash.
   */
  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    const commandsFor = (mountPath: string, entry: MountEntry): Promise<MountCommands> => Promise.resolve(releaseCommands(mountPath, entry, this.#options.privilegedHelper));
    return reconcileMounts({ base: this.mountPointBase, store: this.attachments, inspector: this.#inspector, judge: this.#judge, manager: this.#manager, commandsFor }, options);
  }

  /** The attachment store's contents: mount path → attachment ids (`JSON.stringify` gives a plain object). */
  async listAttachments(): Promise<AttachmentTable & { toJSON(): Record<string, string[]> }> {
    const table = await this.attachments.entries();
    // A Map prints `{}` in JSON; this one prints `{ mountPath: [ids] }`.
    return Object.assign(new Map(table), { toJSON: () => attachmentTableToJSON(table) });
  }

  /**
   * Looks at a mount path: healthy, stale (client gone, wrong size, or no answer within
   * `probeTimeoutMs`), a foreign file system, or nothing mounted. Always the full check.
   * @param options.fresh Ask the kernel anew rather than join a `stat` still waiting on this
   * path (right after a mount replaced a hung one).
   */
  async inspectMount(mountPath: string, options: { fresh?: boolean } = {}): Promise<MountHealth> {
    return this.#inspector.inspect(mountPath, options);
  }

  /** Whether mounts are wrapped in `systemd-run --scope`; detected once per driver. */
  async usesSystemd(): Promise<boolean> {
    if (this.#options.systemd !== 'auto') return this.#options.systemd;
    this.#systemd ??= detectSystemd(this.runner, this.probe, this.commandTimeoutMs);
    return this.#systemd;
  }

  /** The full mount command for an export, as {@link connectVolume} would run it. */
  async mountCommandFor(ci: ConnectionInfo): Promise<Command> {
    return (await this.#commandsFor(this.resolveVolume(ci))).mount;
  }

  /** Mount paths with a lock held or awaited (empty when the driver is idle). */
  get activeLockCount(): number {
    return this.#manager.activeLockCount;
  }

  // ---- internals ----------------------------------------------------------------------------

  async #commandsFor(volume: ResolvedVolume): Promise<MountCommands> {
    const helper = this.#options.privilegedHelper;
    if (helper !== undefined) return { ...helperCommands(helper, volume.export), managesDirectories: true };
    return mountCommands(this.buildMountCommand(volume.export, volume.mountPath), volume.mountPath, await this.usesSystemd());
  }

  /** Checks the input before anything runs, then works out the commands; a repair has no instance. */
  async #request(ci: ConnectionInfo, instance?: InstanceRef): Promise<MountRequest> {
    const volume = this.resolveVolume(ci);
    const attachmentId = instance === undefined ? '' : attachmentIdOf(ci, instance);
    return { volume, attachmentId, commands: await this.#commandsFor(volume), image: { format: ci.data.format ?? 'raw', encrypted: ci.data.encrypted === true } };
  }
}
