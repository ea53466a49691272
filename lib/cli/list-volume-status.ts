/**
 * `status`: every mount directly under the base, how healthy it is and who uses it, plus the
 * attachments whose mount is gone.
 *
 * @module
 */
import type { QuobyteVolumeDriver } from '../drivers/quobyte-volume-driver.js';
import type { FileSystemProbe, MountEntry } from '../filesystem/file-system-probe.js';

/** How a mount under the base looks. `unknown`: it could not be checked (the reason says why). */
export type VolumeHealth = 'healthy' | 'stale' | 'unresponsive' | 'foreign' | 'absent' | 'unknown';

/**
 * What keeps a row from counting as fine; any of them makes `status` exit with
 * `EXIT_DEGRADED`. `not-mounted`: attachments are recorded but the share is not mounted;
 * `orphaned`: an own mount no attachment needs; the others are the health of the same name.
 */
export type VolumeProblem = 'stale' | 'unresponsive' | 'foreign' | 'not-mounted' | 'unknown' | 'orphaned';

/** Options of {@link listVolumeStatus}. */
export interface ListVolumeStatusOptions {
  /** Called once for each mount still being checked after `waitingAfterMs` (to say what a slow run waits for). */
  onWaiting?: (mountPath: string) => void;
  /**
   * How long a check may take before `onWaiting` is called, in milliseconds.
   * @default 1000
   */
  waitingAfterMs?: number;
}

/** One row of `status`; also the `--json` shape. */
export interface VolumeStatus {
  /** The mount path as the driver names it (`<base>/<md5 of the export>`), the store's key. */
  mountPath: string;
  /** The mount's source without `quobyte@`; `null` when nothing is mounted. */
  export: string | null;
  /** The mount's file-system type; `null` when nothing is mounted. */
  fsType: string | null;
  health: VolumeHealth;
  /** Why it is stale (`not-connected`, `nonzero-size`, `unresponsive`) or could not be checked (an errno name). */
  reason?: string;
  /** Attachment ids (`<instance uuid>/<volume>`) the store holds for this mount path. */
  attachments: string[];
  /** What is wrong with it; empty when nothing is. */
  problems: VolumeProblem[];
}

const SOURCE_PREFIX = 'quobyte@';

/** `os.path.join` for an absolute base and one component, as the driver joins them. */
function joinPath(base: string, part: string): string {
  return base.endsWith('/') ? `${base}${part}` : `${base}/${part}`;
}

/** The component below `base`, when `path` is a direct child of it. */
function childOf(base: string, path: string): string | undefined {
  const prefix = base.endsWith('/') ? base : `${base}/`;
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length);
  return rest === '' || rest.includes('/') ? undefined : rest;
}

async function canonicalBase(probe: FileSystemProbe, base: string): Promise<string> {
  const trimmed = base.replace(/(?<=.)\/+$/, '');
  if (probe.realPath === undefined) return trimmed;
  // The kernel writes canonical paths in the mount table; a symlinked base would match nothing.
  return probe.realPath(base).catch(() => trimmed);
}

/** The problems of a row with this health and this many attachments. */
export function problemsOf(health: VolumeHealth, attachmentCount: number): VolumeProblem[] {
  switch (health) {
    case 'healthy':
      return attachmentCount === 0 ? ['orphaned'] : [];
    case 'stale':
    case 'unresponsive':
      return attachmentCount === 0 ? [health, 'orphaned'] : [health];
    case 'absent':
      return ['not-mounted'];
    case 'foreign':
    case 'unknown':
      return [health];
  }
}

/** Calls `onWaiting` if `check` is still running after `afterMs`. */
async function reportIfSlow<T>(check: Promise<T>, afterMs: number, onWaiting: (() => void) | undefined): Promise<T> {
  if (onWaiting === undefined) return check;
  const timer = setTimeout(onWaiting, afterMs);
  try {
    return await check;
  } finally {
    clearTimeout(timer);
  }
}

async function inspect(driver: QuobyteVolumeDriver, mountPath: string, entry: MountEntry, attachments: readonly string[], options: ListVolumeStatusOptions): Promise<VolumeStatus> {
  const row = (health: VolumeHealth, reason: string | undefined): VolumeStatus => ({
    mountPath,
    export: entry.source.startsWith(SOURCE_PREFIX) ? entry.source.slice(SOURCE_PREFIX.length) : entry.source,
    fsType: entry.fsType,
    health,
    ...(reason === undefined ? {} : { reason }),
    attachments: [...attachments],
    problems: problemsOf(health, attachments.length),
  });
  const { onWaiting } = options;
  let health;
  try {
    health = await reportIfSlow(driver.inspectMount(mountPath), options.waitingAfterMs ?? 1000, onWaiting && (() => { onWaiting(mountPath); }));
  } catch (error) {
    const cause: unknown = (error as { cause?: unknown }).cause;
    const code = (cause as { code?: unknown } | undefined)?.code ?? (error as { code?: unknown }).code;
    return row('unknown', typeof code === 'string' ? code : undefined);
  }
  switch (health.state) {
    case 'healthy':
    case 'foreign':
    case 'absent':
      return row(health.state, undefined);
    case 'stale':
      return row(health.reason === 'unresponsive' ? 'unresponsive' : 'stale', health.reason);
  }
}

/**
 * Lists the mounts whose mount point is a direct child of the driver's base (the top one where
 * several are stacked), inspects each (all at once, so hung mounts cost one probe timeout, not
 * one each), and adds the store's attachments, plus a row with health `absent` for each mount
 * path under the base that has attachments but no mount. Sorted by mount path.
 *
 * @param probe - The probe the driver was built with, so both look at the same host.
 */
export async function listVolumeStatus(driver: QuobyteVolumeDriver, probe: FileSystemProbe, options: ListVolumeStatusOptions = {}): Promise<VolumeStatus[]> {
  const base = driver.mountPointBase;
  const canonical = await canonicalBase(probe, base);
  const mounted = new Map<string, MountEntry>();
  for (const entry of await probe.listMounts()) {
    const child = childOf(canonical, entry.mountPoint);
    if (child !== undefined) mounted.set(joinPath(base, child), entry);
  }
  const table = await driver.listAttachments();
  const rows = await Promise.all([...mounted].map(([mountPath, entry]) => inspect(driver, mountPath, entry, table.get(mountPath) ?? [], options)));
  for (const [mountPath, ids] of table) {
    if (!mounted.has(mountPath) && childOf(base, mountPath) !== undefined && ids.length > 0) {
      rows.push({ mountPath, export: null, fsType: null, health: 'absent', attachments: [...ids], problems: problemsOf('absent', ids.length) });
    }
  }
  return rows.sort((a, b) => (a.mountPath < b.mountPath ? -1 : a.mountPath > b.mountPath ? 1 : 0));
}
