/**
 * The warm connect: an attachment already recorded on a mount validated moments ago. One
 * contained round trip looks at the mount's root (the same device, still a healthy root) and
 * at the image for its gate, which is never cached; the calls on the image run only once the
 * root proved to be the same mount. No lock, no write, no mount-table read.
 *
 * @module
 */
import type { FileSystemProbe, PathStat, ProbeCall, ProbeCallResult } from '../filesystem/file-system-probe.js';
import { runCallsInOrder } from '../filesystem/run-calls-in-order.js';
import type { ImageGateResult } from '../images/image-gate.js';
import { QCOW2_HEADER_READ_BYTES } from '../images/qcow2-header.js';
import type { FastPath } from './fast-path.js';
import { gateImage, type ImageExpectation } from './image-checks.js';
import type { ResolvedVolume } from './resolved-volume.js';

/**
 * Checks a recorded attachment's mount and gates its image in one round trip.
 * @returns The gate's result, or `undefined` when the mount is not known healthy (then the
 *   full, locked connect decides).
 * @throws {@link UnsafeImageError} / {@link InvalidVolumeError} from the image gate
 */
export async function warmConnect(probe: FileSystemProbe, fastPath: FastPath, volume: ResolvedVolume, image: ImageExpectation, timeoutMs: number): Promise<ImageGateResult | undefined> {
  const { mountPath, devicePath } = volume;
  const dev = fastPath.recentDevice(mountPath);
  if (dev === undefined) return undefined;
  // What the gate will ask first, asked now: lstat, and for qcow2 the header and lstat again.
  const calls: ProbeCall[] = [{ op: 'stat', path: mountPath, dev }, { op: 'lstat', path: devicePath }];
  if (image.format === 'qcow2' && probe.readBytes !== undefined) calls.push({ op: 'read', path: devicePath, position: 0, length: QCOW2_HEADER_READ_BYTES }, { op: 'lstat', path: devicePath });
  let results: ProbeCallResult[] = [];
  try {
    results = await (probe.batch?.(calls, { timeoutMs }) ?? runCallsInOrder(probe, calls, { timeoutMs }));
  } catch {
    // In doubt (a timeout, a child gone): the full check decides.
  }
  const root = results[0]?.ok as PathStat | undefined;
  if (root === undefined || !fastPath.confirm(mountPath, root)) {
    fastPath.forget(mountPath);
    return undefined;
  }
  return gateImage(answeredFirst(probe, calls.slice(1), results.slice(1)), volume, image, timeoutMs);
}

/** The probe, with the gate's first calls answered from the batch, in order; anything else asks the probe. */
function answeredFirst(probe: FileSystemProbe, calls: ProbeCall[], results: ProbeCallResult[]): Pick<FileSystemProbe, 'lstat' | 'readBytes'> {
  let next = 0;
  const take = (matches: (call: ProbeCall) => boolean): ProbeCallResult => {
    const call = calls[next];
    const result = results[next];
    if (call === undefined || result === undefined || !matches(call)) {
      next = calls.length; // out of step: no later answer applies either
      return undefined;
    }
    next += 1;
    return result;
  };
  const settle = <T>(result: ProbeCallResult): Promise<T> => (result?.error === undefined ? Promise.resolve(result?.ok as T) : Promise.reject(result.error));
  return {
    lstat: (path, options) => {
      const result = take((call) => call.op === 'lstat' && call.path === path);
      return result === undefined ? probe.lstat(path, options) : settle<PathStat>(result);
    },
    ...(probe.readBytes === undefined
      ? {}
      : {
          readBytes: (path: string, position: number, length: number, options?: Parameters<NonNullable<FileSystemProbe['readBytes']>>[3]) => {
            const result = take((call) => call.op === 'read' && call.path === path && call.position === position && call.length === length);
            return result === undefined ? (probe.readBytes?.(path, position, length, options) ?? Promise.resolve(new Uint8Array())) : settle<Uint8Array>(result);
          },
        }),
  };
}
