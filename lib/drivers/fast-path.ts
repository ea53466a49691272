/**
 * The fast path: a mount validated moments ago that is still the same device and still looks
 * right needs no mount-table read and no child process.
 *
 * @module
 */
import type { FileSystemProbe, PathStat } from '../filesystem/file-system-probe.js';
import type { MountJudge } from './mount-inspector.js';

/** A validated mount remembered for the fast path. */
interface Fingerprint {
  dev: number;
  validatedAt: number;
}

/** Mounts validated recently, per mount path. */
export class FastPath {
  readonly #fingerprints = new Map<string, Fingerprint>();
  readonly #probe: FileSystemProbe;
  readonly #judge: MountJudge;
  readonly #revalidateAfterMs: number;
  readonly #probeTimeoutMs: number;

  constructor(probe: FileSystemProbe, judge: MountJudge, revalidateAfterMs: number, probeTimeoutMs: number) {
    this.#probe = probe;
    this.#judge = judge;
    this.#revalidateAfterMs = revalidateAfterMs;
    this.#probeTimeoutMs = probeTimeoutMs;
  }

  /** The mount validated before is still there (same device, still a healthy root). */
  async stillHealthy(mountPath: string): Promise<boolean> {
    const dev = this.recentDevice(mountPath);
    if (dev === undefined) return false;
    try {
      if (this.confirm(mountPath, await this.#probe.stat(mountPath, { timeoutMs: this.#probeTimeoutMs }))) return true;
    } catch {
      // In doubt: the full check decides.
    }
    this.forget(mountPath);
    return false;
  }

  /** The device of a mount validated less than `revalidateAfterMs` ago, or `undefined` (then forgotten). */
  recentDevice(mountPath: string): number | undefined {
    const fingerprint = this.#fingerprints.get(mountPath);
    if (fingerprint !== undefined && Date.now() - fingerprint.validatedAt < this.#revalidateAfterMs) return fingerprint.dev;
    this.#fingerprints.delete(mountPath);
    return undefined;
  }

  /** Whether a fresh `stat` of the mount's root shows the mount validated before, still healthy. */
  confirm(mountPath: string, stat: PathStat): boolean {
    // A new mount gets a new anonymous device; a vanished one shows the parent's device.
    return stat.dev !== undefined && stat.dev === this.#fingerprints.get(mountPath)?.dev && stat.isDirectory && this.#judge.checkMountRoot(stat) === undefined;
  }

  /** Remembers a mount just found healthy. */
  remember(mountPath: string, stat: PathStat): void {
    if (stat.dev === undefined || this.#revalidateAfterMs === 0) return;
    this.#fingerprints.set(mountPath, { dev: stat.dev, validatedAt: Date.now() });
  }

  /** Forgets a mount about to change. */
  forget(mountPath: string): void {
    this.#fingerprints.delete(mountPath);
  }
}
