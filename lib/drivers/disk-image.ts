/**
 * The disk image's size, as extend measures it.
 *
 * @module
 */
import { InvalidVolumeError } from '../errors.js';
import type { FileSystemProbe, PathStat } from '../filesystem/file-system-probe.js';
import type { ResolvedVolume } from './resolved-volume.js';

const QCOW2_MAGIC = 0x514649fb;

/**
 * The image's size in bytes: a raw file's length, a qcow2 image's virtual size.
 * @throws {@link InvalidVolumeError} missing, not a regular file, or not qcow2 when it should be
 */
export async function imageSize(probe: FileSystemProbe, { mountPath, devicePath }: ResolvedVolume, format: 'raw' | 'qcow2', timeoutMs: number): Promise<number> {
  let stat: PathStat;
  try {
    stat = await probe.lstat(devicePath, { timeoutMs });
  } catch (error) {
    throw new InvalidVolumeError(mountPath, `The volume ${devicePath} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  if (!stat.isFile) throw new InvalidVolumeError(mountPath, `The volume ${devicePath} is not a regular file`);
  if (format === 'raw' || probe.readBytes === undefined) return stat.size;
  const header = await probe.readBytes(devicePath, 0, 32, { timeoutMs });
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (header.byteLength < 32 || view.getUint32(0) !== QCOW2_MAGIC) {
    throw new InvalidVolumeError(mountPath, `The volume ${devicePath} is not a qcow2 image`);
  }
  return Number(view.getBigUint64(24));
}
