/**
 * Mount health: the mount table and a `stat` of the mount's root, classified as healthy, stale
 * (client gone, root looks wrong, no answer in time), foreign or absent. The classification of
 * a probe's failure is a pure function of its errno, as in Kubernetes' mount-utils.
 *
 * @module
 */
import { InvalidVolumeError, StaleVolumeMountError, type StaleReason } from '../errors.js';
import type { FileSystemProbe, MountEntry, PathStat } from '../filesystem/file-system-probe.js';
import type { MountHealth } from '../plans/observation.js';
import { joinPath } from './driver-options.js';

/** errno names that mean the client behind a mount is gone. */
const DISCONNECTED_ERRNOS: ReadonlySet<unknown> = new Set(['ENOTCONN', 'ECONNABORTED']);

/** Why a failed `stat` of a mount root makes the mount stale; `undefined` when it says nothing of the kind. */
export function staleReasonOf(errorCode: unknown): StaleReason | undefined {
  if (errorCode === 'ETIMEDOUT') return 'unresponsive';
  return DISCONNECTED_ERRNOS.has(errorCode) ? 'not-connected' : undefined;
}

/** What the backend says about its own mounts. */
export interface MountJudge {
  /** Whether a mount-table entry is this backend's file system. */
  isOwnMount(entry: MountEntry): boolean;
  /** A reason the mount's root looks stale, or `undefined` when it looks healthy. */
  checkMountRoot(stat: PathStat): StaleReason | undefined;
}

/** Looks at mount paths under one base. */
export class MountInspector {
  readonly #probe: FileSystemProbe;
  readonly #judge: MountJudge;
  readonly #base: string;
  readonly #probeTimeoutMs: number;

  constructor(probe: FileSystemProbe, judge: MountJudge, base: string, probeTimeoutMs: number) {
    this.#probe = probe;
    this.#judge = judge;
    this.#base = base;
    this.#probeTimeoutMs = probeTimeoutMs;
  }

  /** Whether a mount-table entry is this backend's file system. */
  isOwnMount(entry: MountEntry): boolean {
    return this.#judge.isOwnMount(entry);
  }

  /**
   * The path as the kernel writes it in the mount table. The base is resolved on every call:
   * a base re-pointed after a connect must not make a disconnect reach somewhere else.
   */
  async canonicalMountPath(mountPath: string): Promise<string> {
    if (this.#probe.realPath === undefined || !mountPath.startsWith(this.#base)) return mountPath;
    const base = await this.#probe.realPath(this.#base).catch(() => this.#base.replace(/\/+$/, ''));
    return joinPath(base, mountPath.slice(this.#base.length).replace(/^\/+/, ''));
  }

  /**
   * The mount table's top entry for a path (the last one: the mount a lookup reaches), and how
   * many of this backend's mounts are stacked there.
   */
  async entryAt(mountPath: string): Promise<{ entry: MountEntry | undefined; entries: MountEntry[]; layers: number }> {
    const [canonical, entries] = await Promise.all([this.canonicalMountPath(mountPath), this.#probe.listMounts()]);
    const here = entries.filter((candidate) => candidate.mountPoint === canonical);
    return { entry: here.at(-1), entries, layers: here.filter((candidate) => this.#judge.isOwnMount(candidate)).length };
  }

  /**
   * Healthy, stale, foreign or absent. Always the full check.
   * @param options.fresh Ask the kernel anew rather than join a `stat` still waiting on this path.
   * @throws {@link InvalidVolumeError} the root could not be checked for another reason
   */
  async inspect(mountPath: string, options: { fresh?: boolean } = {}): Promise<MountHealth> {
    return (await this.inspectWithTable(mountPath, options)).health;
  }

  /** {@link inspect}, with the mount table it read (for `fusectl`) and how many of our mounts are stacked at the path. */
  async inspectWithTable(mountPath: string, options: { fresh?: boolean } = {}): Promise<{ health: MountHealth; entries: MountEntry[]; layers: number }> {
    const { entry, entries, layers } = await this.entryAt(mountPath);
    return { health: await this.#judgeEntry(mountPath, entry, options), entries, layers };
  }

  /** Healthy, stale, foreign or absent, from the top entry at the path. */
  async #judgeEntry(mountPath: string, entry: MountEntry | undefined, options: { fresh?: boolean }): Promise<MountHealth> {
    if (entry === undefined) return { state: 'absent' };
    if (!this.#judge.isOwnMount(entry)) return { state: 'foreign', entry };
    let stat: PathStat;
    try {
      stat = await this.#probe.stat(mountPath, { timeoutMs: this.#probeTimeoutMs, ...(options.fresh === true ? { fresh: true } : {}) });
    } catch (error) {
      const reason = staleReasonOf((error as { code?: unknown }).code);
      if (reason === undefined) {
        throw new InvalidVolumeError(mountPath, `The mount ${mountPath} could not be checked: ${(error as Error).message}`, { cause: error });
      }
      return { state: 'stale', entry, reason, error: new StaleVolumeMountError(mountPath, reason, { cause: error }) };
    }
    const reason = this.#judge.checkMountRoot(stat);
    if (reason !== undefined) {
      return { state: 'stale', entry, reason, error: new StaleVolumeMountError(mountPath, reason) };
    }
    return { state: 'healthy', entry, stat };
  }
}
