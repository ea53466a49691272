import { InvalidConnectionInfoError } from '../errors.js';
import type { DiskInfo } from './connection-info.js';

/**
 * Refuses disk info that must not reach the XML.
 * @throws {@link InvalidConnectionInfoError}
 */
export function checkDiskInfo(diskInfo: DiskInfo): void {
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
