/**
 * The `check-image` step: the image gate (`lib/images/image-gate.ts`) at every connect, never
 * cached, through the probe's bounded, contained calls.
 *
 * @module
 */
import { InvalidVolumeError } from '../errors.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';
import { checkImage, type ImageGateResult } from '../images/image-gate.js';
import type { ResolvedVolume } from './resolved-volume.js';

/** What the gate needs from connection info. */
export interface ImageExpectation {
  /** `data.format`, `raw` when absent. */
  format: 'raw' | 'qcow2';
  /** `data.encrypted`. */
  encrypted: boolean;
}

/**
 * Runs the image gate on a volume's image.
 * @throws {@link UnsafeImageError} the image may make the hypervisor open anything else
 * @throws {@link InvalidVolumeError} the image could not be looked at
 */
export async function gateImage(probe: Pick<FileSystemProbe, 'lstat' | 'readBytes'>, volume: ResolvedVolume, expected: ImageExpectation, timeoutMs: number): Promise<ImageGateResult> {
  if (probe.readBytes === undefined && expected.format === 'qcow2') {
    throw new InvalidVolumeError(volume.mountPath, `The volume ${volume.devicePath} is qcow2 and this probe cannot read its header`);
  }
  const reader = {
    lstat: (path: string) => probe.lstat(path, { timeoutMs }),
    readBytes: (path: string, position: number, length: number) => probe.readBytes?.(path, position, length, { timeoutMs }) ?? Promise.resolve(new Uint8Array()),
  };
  return checkImage(reader, volume.devicePath, expected.format, { encrypted: expected.encrypted });
}
