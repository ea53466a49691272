/**
 * The `check-image` step: the image's `lstat`, fetched early where a mount is being verified
 * (both answers come from the new mount), or skipped where this mount already passed it.
 *
 * @module
 */
import type { FileSystemProbe, PathStat } from '../filesystem/file-system-probe.js';
import { lstatImage, refuseLinkedImage } from './disk-image.js';
import type { FastPath } from './fast-path.js';
import type { ResolvedVolume } from './resolved-volume.js';

/** One connect's image check. */
export interface ImageChecks {
  /** Starts the `lstat` now; its failure surfaces in {@link check}. */
  prefetch(): Promise<void>;
  /** Refuses a linked image; remembers a checked one for the fast path. */
  check(): Promise<void>;
}

/** The image check of one connect. */
export function imageChecks(context: { volume: ResolvedVolume; probe: FileSystemProbe; fastPath: FastPath; probeTimeoutMs: number }): ImageChecks {
  const { volume, probe, fastPath, probeTimeoutMs } = context;
  let pending: Promise<PathStat | undefined> | undefined;
  const fetch = (): Promise<PathStat | undefined> => (pending ??= lstatImage(probe, volume, probeTimeoutMs));
  return {
    prefetch: async () => {
      await fetch().catch(() => undefined);
    },
    check: async () => {
      // Checked once per validated mount: the fast path trusts an unchanged mount for
      // revalidateAfterMs, and the image on it is trusted for as long.
      if (pending === undefined && fastPath.imageChecked(volume.mountPath, volume.devicePath)) return;
      refuseLinkedImage(volume, await fetch());
      fastPath.markImageChecked(volume.mountPath, volume.devicePath);
    },
  };
}
