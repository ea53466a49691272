/**
 * The options every mounted file-system driver takes, and their checks.
 *
 * @module
 */
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { MountLock } from '../locks/mount-lock.js';
import type { Logger } from '../observability/logger.js';
import type { CommandRunner } from '../commands/command-runner.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';

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
   * Who uses which mount point. The default is the host-wide store every process on the base
   * shares (the CLI's too): `new FileAttachmentStore('<mountPointBase>/.libvirt-volume-attachments.json')`.
   * A driver given its own `probe` (a test, another host) defaults to a `MemoryAttachmentStore`.
   */
  attachments?: AttachmentStore;
  /**
   * The lock per mount point held across observe → mount → record and remove → unmount.
   * @default the store's own lock: host-wide for a `FileAttachmentStore`
   */
  mountLock?: MountLock;
  /**
   * Mount, unmount and abort through `libvirt-volume-helper` (an unprivileged agent): the argv
   * prefix that runs it, e.g. `['sudo', '-n', '/usr/local/bin/libvirt-volume-helper']`. The
   * helper checks the export and computes every path itself.
   */
  privilegedHelper?: readonly string[];
  /** Where the driver logs what it does (any object with `debug`, `info`, `warn`, `error`). */
  logger?: Logger;
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

/** The options after their checks, defaults not yet filled for the injected parts. */
export interface CheckedDriverOptions {
  mountPointBase: string;
  privilegedHelper: readonly string[] | undefined;
  systemd: boolean | 'auto';
  commandTimeoutMs: number;
  probeTimeoutMs: number;
  revalidateAfterMs: number;
}

/** The longest delay a timer can hold (2^31 - 1 ms); a larger one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

function positiveInteger(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_TIMER_MS || (!allowZero && value === 0)) {
    throw new TypeError(`Expected ${name} to be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Checks the options a driver was constructed with.
 * @throws TypeError when an option has the wrong type or range.
 */
export function checkDriverOptions(options: FileSystemVolumeDriverOptions): CheckedDriverOptions {
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
  const helper: unknown = options.privilegedHelper;
  if (helper !== undefined && (!Array.isArray(helper) || helper.length === 0 || !helper.every((word): word is string => typeof word === 'string' && word !== ''))) {
    throw new TypeError(`Expected privilegedHelper to be a non-empty argv prefix, got ${JSON.stringify(helper)}`);
  }
  return {
    mountPointBase,
    privilegedHelper: helper === undefined ? undefined : [...(helper)],
    systemd,
    commandTimeoutMs: positiveInteger('commandTimeoutMs', options.commandTimeoutMs, 60_000),
    probeTimeoutMs: positiveInteger('probeTimeoutMs', options.probeTimeoutMs, 5_000),
    revalidateAfterMs: positiveInteger('revalidateAfterMs', options.revalidateAfterMs, 30_000, true),
  };
}

/** Python's `os.path.join(base, part)` for an absolute base and a single component. */
export function joinPath(base: string, part: string): string {
  return base.endsWith('/') ? `${base}${part}` : `${base}/${part}`;
}
