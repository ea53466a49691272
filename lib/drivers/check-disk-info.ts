/**
 * The run-time check of {@link DiskInfo}, for JavaScript callers and for values that reach the
 * library untyped (a CLI option, JSON): what TypeScript refuses at compile time is refused here
 * before anything is built or run.
 *
 * @module
 */
import { InvalidConnectionInfoError } from '../errors.js';
import type { DiskBus, DiskDeviceType, DiskInfo } from './connection-info.js';

// Records, not arrays: the compiler insists on every member of the union, and on no other.
const BUSES: Readonly<Record<DiskBus, true>> = { ide: true, fdc: true, scsi: true, virtio: true, xen: true, usb: true, sata: true, sd: true };
const DEVICE_TYPES: Readonly<Record<DiskDeviceType, true>> = { disk: true, cdrom: true, floppy: true, lun: true };

/** Every {@link DiskBus}, in libvirt's schema order. */
export const DISK_BUSES: readonly DiskBus[] = Object.freeze(Object.keys(BUSES) as DiskBus[]);
/** Every {@link DiskDeviceType}. */
export const DISK_DEVICE_TYPES: readonly DiskDeviceType[] = Object.freeze(Object.keys(DEVICE_TYPES) as DiskDeviceType[]);

/** What any of the three names may hold at all: it ends up in an XML attribute and a CLI line. */
const SIMPLE_NAME = /^[A-Za-z0-9_.-]+$/;
/** libvirt's `diskTargetDev` pattern (without Xen's legacy `ioemu:` prefix), anchored. */
const TARGET_DEV = /^(?:fd|hd|sd|vd|xvd|ubd)[A-Za-z0-9_]+$/;

/** A value as a message shows it; never throws (`JSON.stringify` does on a bigint). */
function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return typeof value;
  try {
    return JSON.stringify(value);
  } catch {
    return typeof value;
  }
}

function oneOf(key: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) {
    throw new InvalidConnectionInfoError(`disk_info.${key}`, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
}

/**
 * Checks where the disk goes in the guest: `bus` one of {@link DISK_BUSES}, `type` one of
 * {@link DISK_DEVICE_TYPES}, `dev` a target device name libvirt's schema accepts (`vdb`,
 * `sda`, ...), `unit` (when given) a non-negative integer.
 *
 * @throws {@link InvalidConnectionInfoError} naming the field (`disk_info.bus`, ...) when any is
 *   missing or outside its set
 */
export function checkDiskInfo(diskInfo: DiskInfo): void {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers
  if (typeof diskInfo !== 'object' || diskInfo === null) {
    throw new InvalidConnectionInfoError('disk_info', 'must be an object');
  }
  for (const key of ['bus', 'dev', 'type'] as const) {
    const value: unknown = diskInfo[key];
    if (typeof value !== 'string' || !SIMPLE_NAME.test(value)) {
      throw new InvalidConnectionInfoError(`disk_info.${key}`, `must be a simple name, got ${JSON.stringify(value)}`);
    }
  }
  oneOf('bus', diskInfo.bus, DISK_BUSES);
  oneOf('type', diskInfo.type, DISK_DEVICE_TYPES);
  if (!TARGET_DEV.test(diskInfo.dev)) {
    throw new InvalidConnectionInfoError('disk_info.dev', `must be fd, hd, sd, vd, xvd or ubd followed by letters, digits or _, got ${JSON.stringify(diskInfo.dev)}`);
  }
  const unit: unknown = diskInfo.unit;
  if (unit !== undefined && (typeof unit !== 'number' || !Number.isSafeInteger(unit) || unit < 0)) {
    throw new InvalidConnectionInfoError('disk_info.unit', `must be a non-negative integer, got ${describe(unit)}`);
  }
}
