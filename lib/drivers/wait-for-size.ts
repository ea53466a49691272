/**
 * `extendVolume`'s wait: the backend grows the file; the driver polls until it is big enough.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { throwIfAborted } from '../commands/abort-error.js';
import { InvalidVolumeError } from '../errors.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';
import { imageSize } from './disk-image.js';
import type { ResolvedVolume } from './resolved-volume.js';

/** How often the size is looked at again. */
const POLL_MS = 100;

/**
 * Resolves to the image's size once it is at least `requestedSize`.
 * @throws {@link InvalidVolumeError} missing, a link, or still smaller when `timeoutMs` runs out
 */
export async function waitForSize(
  probe: FileSystemProbe,
  volume: ResolvedVolume,
  format: 'raw' | 'qcow2',
  requestedSize: number,
  timing: { timeoutMs: number; probeTimeoutMs: number; signal?: AbortSignal | undefined; what: string },
): Promise<number> {
  const deadline = Date.now() + timing.timeoutMs;
  for (;;) {
    throwIfAborted(timing.signal, timing.what);
    const size = await imageSize(probe, volume, format, timing.probeTimeoutMs);
    if (size >= requestedSize) return size;
    if (Date.now() >= deadline) {
      throw new InvalidVolumeError(volume.mountPath, `The volume ${volume.devicePath} is ${size} bytes, less than the requested ${requestedSize}`);
    }
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), undefined, timing.signal === undefined ? {} : { signal: timing.signal }).catch(() => undefined);
  }
}
