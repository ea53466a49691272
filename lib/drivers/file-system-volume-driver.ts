import { createHash } from 'node:crypto';
import createDebug from 'debug';
import type { AttachmentStore, AttachmentTable } from '../attachments/attachment-store.js';
import { MemoryAttachmentStore } from '../attachments/memory-attachment-store.js';
import type { Command, CommandRunner } from '../commands/command-runner.js';
import { throwIfAborted } from '../commands/abort-error.js';
import { ExecaCommandRunner } from '../commands/execa-command-runner.js';
import {
  CommandFailedError,
  InvalidConnectionInfoError,
  InvalidVolumeError,
  StaleVolumeMountError,
  VolumeMountError,
  VolumeUnmountError,
  type StaleReason,
} from '../errors.js';
import type { FileSystemProbe, MountEntry, PathStat } from '../filesystem/file-system-probe.js';
import { NodeFileSystemProbe } from '../filesystem/node-file-system-probe.js';
import { buildGuestDiskConfig } from '../libvirt/build-guest-disk-config.js';
import type { GuestDiskConfig } from '../libvirt/guest-disk-config.js';
import type { ConnectionInfo, DiskInfo, InstanceRef } from './connection-info.js';
import { detectSystemd } from './detect-systemd.js';
import { KeyedMutex } from './keyed-mutex.js';
import { attachmentIdOf, validateConnectionInfo } from './validate-connection-info.js';
import { VolumeDriver, type DisconnectResult, type VolumeOperationOptions } from './volume-driver.js';

const debug = createDebug('libvirt-volume-driver:driver');

/** Options shared by every mounted file-system driver. */
export interface FileSystemVolumeDriverOptions {
  /** Absolute directory under which each export gets `<md5 of the export>` (Nova: `/var/lib/nova/mnt`). */
  mountPointBase: string;
  /**
   * How commands run.
   * @default new ExecaCommandRunner()
   */
  runner?: CommandRunner;
  /**
   * How the host is looked at.
   * @default new NodeFileSystemProbe()
   */
  probe?: FileSystemProbe;
  /**
   * Who uses which mount point. Use a `FileAttachmentStore` to keep it across agent restarts.
   * @default new MemoryAttachmentStore()
   */
  attachments?: AttachmentStore;
  /**
   * Mount under `systemd-run --scope`: `'auto'` detects systemd once per driver.
   * @default 'auto'
   */
  systemd?: boolean | 'auto';
  /**
   * Timeout for each mount and unmount command, in milliseconds.
   * @default 60000
   */
  commandTimeoutMs?: number;
  /**
   * How long a mount may take to answer a `stat` before it counts as hung, in milliseconds.
   * @default 5000
   */
  probeTimeoutMs?: number;
  /**
   * How long a validated mount is trusted on the fast path (same device, size 0, no mount-table
   * read) before the full check runs again, in milliseconds. `0` always runs the full check.
   * @default 30000
   */
  revalidateAfterMs?: number;
}

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

/** Connection info checked and turned into host paths. */
export interface ResolvedVolume {
  /** The export after normalisation (what the mount command gets). */
  export: string;
  /** `<mountPointBase>/<md5 of export>`. */
  mountPath: string;
  /** `<mountPath>/<data.name>`. */
  devicePath: string;
}

/** A validated mount remembered for the fast path. */
interface Fingerprint {
  dev: number;
  validatedAt: number;
  /** Disk images on this mount already seen to be regular files, not links. */
  checkedImages: Set<string>;
}

/** errno names that mean the client behind a mount is gone. */
const DISCONNECTED_ERRNOS: ReadonlySet<unknown> = new Set(['ENOTCONN', 'ECONNABORTED']);
/** util-linux `umount` exit status for "unmount failed" (the kernel's errno is in the text). */
const UMOUNT_FAILURE_EXIT = 32;
const EBUSY_TEXT = /target is busy|device or resource busy/i;
const QCOW2_MAGIC = 0x514649fb;

/** The longest delay a timer can hold (2^31 - 1 ms); a larger one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

function positiveInteger(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_TIMER_MS || (!allowZero && value === 0)) {
    throw new TypeError(`Expected ${name} to be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  }
  return value;
}

/** Python's `os.path.join(base, part)` for an absolute base and a single component. */
function joinPath(base: string, part: string): string {
  return base.endsWith('/') ? `${base}${part}` : `${base}/${part}`;
}

/**
 * The shared machinery of every driver that mounts a network file system and hands libvirt a
 * file on it: the mount path, validation, a lock per mount point, repair of stale and hung
 * mounts, and counting attachments so a share is unmounted only when its last guest goes.
 *
 * A backend supplies its mount command and health check: {@link driverVolumeType},
 * {@link checkExport}, {@link buildMountCommand}, {@link isOwnMount}, and optionally
 * {@link normalizeExport} and {@link checkMountRoot}.
 */
export abstract class FileSystemVolumeDriver extends VolumeDriver {
  /** `driver_volume_type` this driver serves (`quobyte`, `nfs`, ...). */
  protected abstract readonly driverVolumeType: string;

  readonly #mountPointBase: string;
  /** How commands run: the `runner` option, or an {@link ExecaCommandRunner}. */
  protected readonly runner: CommandRunner;
  /** How the host is looked at: the `probe` option, or a {@link NodeFileSystemProbe}. */
  protected readonly probe: FileSystemProbe;
  /** Who uses which mount point: the `attachments` option, or a {@link MemoryAttachmentStore}. */
  protected readonly attachments: AttachmentStore;
  /** Timeout of each mount and unmount command, in milliseconds. */
  protected readonly commandTimeoutMs: number;
  /** How long a `stat` of a mount may take before the mount counts as hung, in milliseconds. */
  protected readonly probeTimeoutMs: number;
  readonly #revalidateAfterMs: number;
  readonly #systemdOption: boolean | 'auto';
  #systemd: Promise<boolean> | undefined;
  #canonicalBase: Promise<string> | undefined;
  readonly #locks = new KeyedMutex();
  readonly #fingerprints = new Map<string, Fingerprint>();

  /** @throws TypeError when an option has the wrong type or range. */
  constructor(options: FileSystemVolumeDriverOptions) {
    super();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`Expected an options object, got ${String(options)}`);
    }
    const { mountPointBase } = options;
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    if (typeof mountPointBase !== 'string' || !mountPointBase.startsWith('/') || /[\u0000-\u001f\u007f]/.test(mountPointBase)) {
      throw new TypeError(`Expected mountPointBase to be an absolute path, got ${JSON.stringify(mountPointBase)}`);
    }
    const systemd = options.systemd ?? 'auto';
    if (systemd !== 'auto' && typeof systemd !== 'boolean') {
      throw new TypeError(`Expected systemd to be true, false or 'auto', got ${JSON.stringify(systemd)}`);
    }
    this.#mountPointBase = mountPointBase;
    this.commandTimeoutMs = positiveInteger('commandTimeoutMs', options.commandTimeoutMs, 60_000);
    this.probeTimeoutMs = positiveInteger('probeTimeoutMs', options.probeTimeoutMs, 5_000);
    this.#revalidateAfterMs = positiveInteger('revalidateAfterMs', options.revalidateAfterMs, 30_000, true);
    this.runner = options.runner ?? new ExecaCommandRunner({ timeoutMs: this.commandTimeoutMs });
    this.probe = options.probe ?? new NodeFileSystemProbe();
    this.attachments = options.attachments ?? new MemoryAttachmentStore();
    this.#systemdOption = systemd;
  }

  // ---- what a backend supplies -------------------------------------------------------------

  /** Turns the export as given into the one that is mounted and hashed. The default keeps it. */
  protected normalizeExport(exportName: string): string {
    return exportName;
  }

  /**
   * Refuses a normalised export that must not reach argv.
   * @throws {@link InvalidConnectionInfoError}
   */
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
    const mountPath = joinPath(this.#mountPointBase, createHash('md5').update(exportName, 'utf8').digest('hex'));
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
    return this.#mountPointBase;
  }

  // ---- the contract -------------------------------------------------------------------------

  /**
   * The libvirt `<disk>` model: type `file`, driver `qemu`, cache `none`, io `native`.
   * @throws {@link InvalidConnectionInfoError}
   */
  override getConfig(ci: ConnectionInfo, diskInfo: DiskInfo): GuestDiskConfig {
    const { devicePath } = this.resolveVolume(ci);
    checkDiskInfo(diskInfo);
    return buildGuestDiskConfig(ci, diskInfo, devicePath);
  }

  /**
   * Makes the share reachable and records the attachment. Under a lock for this mount point
   * only: a healthy mount is reused (without a child process), a stale or hung one is unmounted
   * and mounted again, an absent one is mounted; the result is validated again and a mount that
   * is still not valid is an error.
   * @throws {@link InvalidConnectionInfoError} bad input; nothing was run
   * @throws {@link InvalidVolumeError} another file system occupies the mount path, or the disk
   * image is a symbolic link
   * @throws {@link VolumeMountError} the mount command failed, or the mount is not valid after it
   * @throws {@link VolumeUnmountError} a stale mount could not be removed
   */
  override async connectVolume(ci: ConnectionInfo, instance: InstanceRef, options: VolumeOperationOptions = {}): Promise<void> {
    const volume = this.resolveVolume(ci);
    const attachmentId = attachmentIdOf(ci, instance);
    const { signal } = options;
    throwIfAborted(signal);
    await this.#locks.runExclusive(volume.mountPath, async () => {
      throwIfAborted(signal);
      const mounted = await this.#ensureMounted(volume, signal);
      try {
        await this.#refuseLinkedDevice(volume);
        await this.attachments.add(volume.mountPath, attachmentId);
      } catch (error) {
        // A share this call mounted and nobody uses is not left behind.
        if (mounted) await this.#unmountUnused(volume.mountPath);
        throw error;
      }
    });
  }

  /**
   * Drops the attachment and unmounts the share when it was the last one on that mount point
   * (a stale mount too), then removes the empty directory. A busy share is reported, not thrown.
   * A foreign file system at the mount path is never unmounted.
   * @throws {@link InvalidConnectionInfoError} bad input; nothing was run
   * @throws {@link VolumeUnmountError} the unmount failed for a reason other than busy
   */
  override async disconnectVolume(ci: ConnectionInfo, instance: InstanceRef, options: VolumeOperationOptions = {}): Promise<DisconnectResult> {
    const volume = this.resolveVolume(ci);
    const attachmentId = attachmentIdOf(ci, instance);
    const { signal } = options;
    throwIfAborted(signal);
    return this.#locks.runExclusive(volume.mountPath, async () => {
      const remaining = await this.attachments.remove(volume.mountPath, attachmentId);
      if (remaining > 0) {
        debug('%s still has %d attachment(s); not unmounting', volume.mountPath, remaining);
        return { unmounted: false, reason: 'in-use' };
      }
      return this.#releaseMount(volume.mountPath, signal);
    });
  }

  /**
   * Resolves to the disk image's size in bytes (a qcow2 image's virtual size) once it is at
   * least `requestedSize`, polling until `commandTimeoutMs`.
   * @throws {@link InvalidConnectionInfoError} bad input
   * @throws {@link InvalidVolumeError} the image is missing, a link, or still smaller at the end
   */
  override async extendVolume(ci: ConnectionInfo, instance: InstanceRef, requestedSize: number): Promise<number> {
    const volume = this.resolveVolume(ci);
    attachmentIdOf(ci, instance);
    if (!Number.isSafeInteger(requestedSize) || requestedSize < 0) {
      throw new InvalidConnectionInfoError('requestedSize', `must be a non-negative integer, got ${String(requestedSize)}`);
    }
    const deadline = Date.now() + this.commandTimeoutMs;
    for (;;) {
      const size = await this.#imageSize(volume, ci.data.format ?? 'raw');
      if (size >= requestedSize) return size;
      if (Date.now() >= deadline) {
        throw new InvalidVolumeError(volume.mountPath, `The volume ${volume.devicePath} is ${size} bytes, less than the requested ${requestedSize}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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
      const ids = table.get(mountPath) ?? [];
      ids.push(attachmentIdOf(connectionInfo, instance));
      table.set(mountPath, ids);
    }
    await this.attachments.replaceAll(table);
  }

  /** The attachment store's contents: mount path → attachment ids. */
  async listAttachments(): Promise<AttachmentTable> {
    return this.attachments.entries();
  }

  /**
   * Looks at a mount path: healthy, stale (client gone, wrong size, or no answer within
   * `probeTimeoutMs`), a foreign file system, or nothing mounted. Always the full check.
   * @param options.fresh Ask the kernel anew rather than join a `stat` still waiting on this
   * path (right after a mount replaced a hung one).
   */
  async inspectMount(mountPath: string, options: { fresh?: boolean } = {}): Promise<MountHealth> {
    const canonical = await this.#canonicalMountPath(mountPath);
    const entries = await this.probe.listMounts();
    // The last entry for a path is the one on top, the one a lookup of the path reaches.
    const entry = entries.findLast((candidate) => candidate.mountPoint === canonical);
    if (entry === undefined) return { state: 'absent' };
    if (!this.isOwnMount(entry)) return { state: 'foreign', entry };
    let stat: PathStat;
    try {
      stat = await this.probe.stat(mountPath, { timeoutMs: this.probeTimeoutMs, ...(options.fresh === true ? { fresh: true } : {}) });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const reason: StaleReason | undefined =
        code === 'ETIMEDOUT' ? 'unresponsive' : DISCONNECTED_ERRNOS.has(code) ? 'not-connected' : undefined;
      if (reason === undefined) {
        throw new InvalidVolumeError(mountPath, `The mount ${mountPath} could not be checked: ${(error as Error).message}`, { cause: error });
      }
      return { state: 'stale', entry, reason, error: new StaleVolumeMountError(mountPath, reason, { cause: error }) };
    }
    const reason = this.checkMountRoot(stat);
    if (reason !== undefined) {
      return { state: 'stale', entry, reason, error: new StaleVolumeMountError(mountPath, reason) };
    }
    return { state: 'healthy', entry, stat };
  }

  /** Whether mounts are wrapped in `systemd-run --scope`; detected once per driver. */
  async usesSystemd(): Promise<boolean> {
    if (this.#systemdOption !== 'auto') return this.#systemdOption;
    this.#systemd ??= detectSystemd(this.runner, this.probe, this.commandTimeoutMs);
    return this.#systemd;
  }

  /** The full mount command for an export, as {@link connectVolume} would run it. */
  async mountCommandFor(ci: ConnectionInfo): Promise<Command> {
    const volume = this.resolveVolume(ci);
    return this.#wrapMountCommand(this.buildMountCommand(volume.export, volume.mountPath));
  }

  /** Mount paths with a lock held or awaited (empty when the driver is idle). */
  get activeLockCount(): number {
    return this.#locks.size;
  }

  // ---- internals ----------------------------------------------------------------------------

  async #wrapMountCommand(command: Command): Promise<Command> {
    // A FUSE client forked by the agent lives in the agent's cgroup, and systemd kills it when
    // the agent's unit stops or restarts, leaving a dead mount (Nova bug 1530866). A transient
    // scope of its own keeps it alive. No `--user` (Nova bug 1756823).
    if (!(await this.usesSystemd())) return command;
    return { file: 'systemd-run', args: ['--scope', command.file, ...command.args] };
  }

  /** The fast path: the mount validated before is still there (same device, size 0). */
  async #stillHealthy(mountPath: string): Promise<boolean> {
    const fingerprint = this.#fingerprints.get(mountPath);
    if (fingerprint === undefined) return false;
    if (Date.now() - fingerprint.validatedAt < this.#revalidateAfterMs) {
      try {
        const stat = await this.probe.stat(mountPath, { timeoutMs: this.probeTimeoutMs });
        // A new mount gets a new anonymous device; a vanished one shows the parent's device.
        if (stat.dev === fingerprint.dev && stat.isDirectory && this.checkMountRoot(stat) === undefined) return true;
      } catch {
        // In doubt: the full check decides.
      }
    }
    this.#fingerprints.delete(mountPath);
    return false;
  }

  #remember(mountPath: string, stat: PathStat): void {
    if (stat.dev === undefined || this.#revalidateAfterMs === 0) return;
    this.#fingerprints.set(mountPath, { dev: stat.dev, validatedAt: Date.now(), checkedImages: new Set() });
  }

  /** Makes sure a valid mount is there; resolves to whether this call mounted it. */
  async #ensureMounted(volume: ResolvedVolume, signal: AbortSignal | undefined): Promise<boolean> {
    const { mountPath } = volume;
    if (await this.#stillHealthy(mountPath)) return false;
    const health = await this.inspectMount(mountPath);
    switch (health.state) {
      case 'healthy':
        this.#remember(mountPath, health.stat);
        return false;
      case 'foreign':
        throw foreignMountError(mountPath, health.entry);
      case 'stale':
        debug('Fixing previous mount %s which was not unmounted correctly (%s).', mountPath, health.reason);
        await this.#removeStaleMount(mountPath, health, signal);
        break;
      case 'absent':
        break;
    }
    await this.#mount(volume, signal);
    return true;
  }

  /** Best effort: unmounts a share with no attachments and removes its directory. */
  async #unmountUnused(mountPath: string): Promise<void> {
    this.#fingerprints.delete(mountPath);
    try {
      if ((await this.attachments.list(mountPath)).length > 0) return;
      await this.#unmount(mountPath, false, undefined);
      await this.#removeDirectoryQuietly(mountPath);
    } catch (error) {
      debug('could not release the unused mount %s: %O', mountPath, error);
    }
  }

  async #mount(volume: ResolvedVolume, signal: AbortSignal | undefined): Promise<void> {
    const { mountPath } = volume;
    await this.probe.ensureDirectory(mountPath);
    const command = await this.#wrapMountCommand(this.buildMountCommand(volume.export, mountPath));
    debug('Mounting volume %s at mount point %s', volume.export, mountPath);
    try {
      await this.runner.run(command, { timeoutMs: this.commandTimeoutMs, ...(signal === undefined ? {} : { signal }) });
    } catch (error) {
      // Another process may have mounted it meanwhile (the real client then exits 4): that is
      // success. Otherwise leave no empty directory behind.
      const after = await this.inspectMount(mountPath, { fresh: true }).catch(() => undefined);
      if (after?.state === 'healthy') {
        debug('Mount of %s failed but it is mounted and healthy: %O', mountPath, error);
        this.#remember(mountPath, after.stat);
        return;
      }
      if (after?.state === 'absent') await this.#removeDirectoryQuietly(mountPath);
      if ((error as Error).name === 'AbortError') throw error;
      const detail = error instanceof CommandFailedError && error.stderr.trim() !== '' ? error.stderr.trim() : (error as Error).message;
      throw new VolumeMountError(mountPath, `Could not mount ${volume.export} at ${mountPath}: ${detail}`, { cause: error });
    }
    // The image's link check reads the new mount too; both answers are only used if it is valid.
    const [health, image] = await Promise.all([this.inspectMount(mountPath, { fresh: true }), this.#lstatImage(volume)]);
    if (health.state !== 'healthy') {
      // Nova only logs here and lets libvirt fail later; the caller must know now.
      const cause = health.state === 'stale' ? health.error : undefined;
      throw new VolumeMountError(mountPath, `The mount of ${volume.export} at ${mountPath} is not valid after mounting (${health.state})`, { cause });
    }
    debug('Mounted volume: %s', volume.export);
    this.#remember(mountPath, health.stat);
    this.#checkImage(volume, image);
  }

  /** Unmounts a stale mount so it can be mounted again; failure is an error. */
  async #removeStaleMount(mountPath: string, health: Extract<MountHealth, { state: 'stale' }>, signal: AbortSignal | undefined): Promise<void> {
    this.#fingerprints.delete(mountPath);
    if (health.reason === 'unresponsive') {
      // A plain umount of a hung FUSE mount hangs too (it looks the path up first). Aborting the
      // connection frees every request stuck on it (and the I/O threads they hold); a lazy
      // unmount then detaches the mount at once.
      await this.#abortFuseConnection(health.entry);
      await this.#unmount(mountPath, true, signal);
      return;
    }
    try {
      await this.#unmount(mountPath, false, signal);
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      debug('umount of stale %s failed, detaching lazily: %O', mountPath, error);
      await this.#unmount(mountPath, true, signal);
    }
  }

  async #abortFuseConnection(entry: MountEntry): Promise<void> {
    // Only FUSE mounts have a connection to abort (an NFS mount's device is 0:N too).
    if (entry.fsType !== 'fuse' && !entry.fsType.startsWith('fuse.')) return;
    const minor = fuseMinor(entry);
    if (minor === undefined || this.probe.abortFuseConnection === undefined) return;
    try {
      let result = await this.probe.abortFuseConnection(minor);
      if (result === 'no-fusectl') {
        await this.runner.run({ file: 'mount', args: ['-t', 'fusectl', 'fusectl', '/sys/fs/fuse/connections'] }, { timeoutMs: this.commandTimeoutMs });
        result = await this.probe.abortFuseConnection(minor);
      }
      debug('abort of FUSE connection %d: %s', minor, result);
    } catch (error) {
      debug('could not abort FUSE connection %d: %O', minor, error);
    }
  }

  /** `umount <path>`, or `umount -l <path>`; a failure is a {@link VolumeUnmountError}. */
  async #unmount(mountPath: string, lazy: boolean, signal: AbortSignal | undefined): Promise<void> {
    const command: Command = { file: 'umount', args: lazy ? ['-l', mountPath] : [mountPath] };
    try {
      // The C locale keeps umount's EBUSY text stable, so busy is told from other failures.
      await this.runner.run(command, { timeoutMs: this.commandTimeoutMs, env: { LC_ALL: 'C' }, ...(signal === undefined ? {} : { signal }) });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new VolumeUnmountError(mountPath, `Could not unmount ${mountPath}: ${(error as Error).message}`, { cause: error });
    }
  }

  async #releaseMount(mountPath: string, signal: AbortSignal | undefined): Promise<DisconnectResult> {
    // A mount validated moments ago and still the same device needs no mount-table read.
    const known = await this.#stillHealthy(mountPath);
    this.#fingerprints.delete(mountPath);
    const health: MountHealth | { state: 'known' } = known ? { state: 'known' } : await this.inspectMount(mountPath);
    if (health.state === 'absent') {
      await this.#removeDirectoryQuietly(mountPath);
      return { unmounted: false, reason: 'not-mounted' };
    }
    if (health.state === 'foreign') {
      debug('%s holds %s, not ours: leaving it alone', mountPath, health.entry.fsType);
      return { unmounted: false, reason: 'not-mounted' };
    }
    if (health.state === 'stale') {
      await this.#removeStaleMount(mountPath, health, signal);
    } else {
      try {
        await this.#unmount(mountPath, false, signal);
      } catch (error) {
        if (isBusy(error)) {
          debug('The volume at %s is still in use.', mountPath);
          return { unmounted: false, reason: 'busy' };
        }
        // Someone else unmounted it in between: the share is gone, which is what was asked.
        if ((await this.inspectMount(mountPath).catch(() => undefined))?.state === 'absent') {
          await this.#removeDirectoryQuietly(mountPath);
          return { unmounted: false, reason: 'not-mounted' };
        }
        throw error;
      }
    }
    await this.#removeDirectoryQuietly(mountPath);
    return { unmounted: true, reason: 'unmounted' };
  }

  async #removeDirectoryQuietly(mountPath: string): Promise<void> {
    try {
      await this.probe.removeDirectory(mountPath);
    } catch (error) {
      // Not there, not empty, or still a mount point: nothing of ours to remove.
      debug('kept %s: %s', mountPath, (error as { code?: string }).code ?? (error as Error).message);
    }
  }

  async #refuseLinkedDevice(volume: ResolvedVolume): Promise<void> {
    // Checked once per validated mount: the fast path trusts an unchanged mount for
    // revalidateAfterMs, and the image on it is trusted for as long.
    if (this.#fingerprints.get(volume.mountPath)?.checkedImages.has(volume.devicePath) === true) return;
    this.#checkImage(volume, await this.#lstatImage(volume));
  }

  /** `lstat` of the disk image; `undefined` when it is not there (yet). */
  async #lstatImage(volume: ResolvedVolume): Promise<PathStat | undefined> {
    try {
      return await this.probe.lstat(volume.devicePath, { timeoutMs: this.probeTimeoutMs });
    } catch (error) {
      // Missing is fine: libvirt reports a missing image when it opens it. Anything else means
      // the image could not be checked, and an unchecked image is not handed out.
      if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
      throw new InvalidVolumeError(volume.mountPath, `The volume ${volume.devicePath} could not be checked: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Refuses an image that is a symbolic link; remembers one that is not. */
  #checkImage(volume: ResolvedVolume, stat: PathStat | undefined): void {
    if (stat === undefined) return;
    if (stat.isSymbolicLink) {
      throw new InvalidVolumeError(volume.mountPath, `The volume ${volume.devicePath} is a symbolic link; refusing to hand it to libvirt`);
    }
    this.#fingerprints.get(volume.mountPath)?.checkedImages.add(volume.devicePath);
  }

  async #imageSize({ mountPath, devicePath }: ResolvedVolume, format: 'raw' | 'qcow2'): Promise<number> {
    let stat: PathStat;
    try {
      stat = await this.probe.lstat(devicePath, { timeoutMs: this.probeTimeoutMs });
    } catch (error) {
      throw new InvalidVolumeError(mountPath, `The volume ${devicePath} cannot be read: ${(error as Error).message}`, { cause: error });
    }
    if (!stat.isFile) throw new InvalidVolumeError(mountPath, `The volume ${devicePath} is not a regular file`);
    if (format === 'raw' || this.probe.readBytes === undefined) return stat.size;
    const header = await this.probe.readBytes(devicePath, 0, 32, { timeoutMs: this.probeTimeoutMs });
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (header.byteLength < 32 || view.getUint32(0) !== QCOW2_MAGIC) {
      throw new InvalidVolumeError(mountPath, `The volume ${devicePath} is not a qcow2 image`);
    }
    return Number(view.getBigUint64(24));
  }

  async #canonicalMountPath(mountPath: string): Promise<string> {
    if (this.probe.realPath === undefined) return mountPath;
    const realPath = this.probe.realPath.bind(this.probe);
    // The kernel writes canonical paths in the mount table; a symlinked base would never match.
    this.#canonicalBase ??= realPath(this.#mountPointBase).catch(() => {
      // Not there yet: ask again next time rather than keep an answer that may never match.
      this.#canonicalBase = undefined;
      return this.#mountPointBase.replace(/\/+$/, '');
    });
    const base = await this.#canonicalBase;
    return mountPath.startsWith(this.#mountPointBase) ? joinPath(base, mountPath.slice(this.#mountPointBase.length).replace(/^\/+/, '')) : mountPath;
  }
}

/** Another file system occupies the mount path: it is never mounted over. */
export function foreignMountError(mountPath: string, entry: MountEntry): InvalidVolumeError {
  return new InvalidVolumeError(mountPath, `The mount ${mountPath} holds another file system (${entry.fsType} from ${entry.source}); refusing to mount over it`);
}

/** The minor of a FUSE mount's anonymous device (`0:57` → 57), its `fusectl` connection id. */
function fuseMinor(entry: MountEntry): number | undefined {
  const match = /^0:(\d+)$/.exec(entry.device ?? '');
  return match === null ? undefined : Number(match[1]);
}

/** Busy: `umount` exit status 32 with EBUSY's text, or an errno of EBUSY from a custom runner. */
function isBusy(error: unknown): boolean {
  const cause = error instanceof VolumeUnmountError ? error.cause : error;
  if ((cause as { code?: unknown } | undefined)?.code === 'EBUSY') return true;
  return cause instanceof CommandFailedError && cause.exitCode === UMOUNT_FAILURE_EXIT && EBUSY_TEXT.test(cause.stderr);
}

function checkDiskInfo(diskInfo: DiskInfo): void {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers
  if (typeof diskInfo !== 'object' || diskInfo === null) {
    throw new InvalidConnectionInfoError('disk_info', 'must be an object');
  }
  for (const key of ['bus', 'dev', 'type'] as const) {
    const value: unknown = diskInfo[key];
    if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(value)) {
      throw new InvalidConnectionInfoError(`disk_info.${key}`, `must be a simple name, got ${JSON.stringify(value)}`);
    }
  }
  if (diskInfo.unit !== undefined && (!Number.isSafeInteger(diskInfo.unit) || diskInfo.unit < 0)) {
    throw new InvalidConnectionInfoError('disk_info.unit', `must be a non-negative integer, got ${String(diskInfo.unit)}`);
  }
}
