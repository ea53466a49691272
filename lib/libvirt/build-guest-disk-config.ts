/**
 * Connection info to the libvirt disk model: Nova's `LibvirtBaseVolumeDriver.get_config` with
 * `LibvirtQuobyteVolumeDriver.get_config` on top (nova/virt/libvirt/volume/volume.py and
 * quobyte.py).
 *
 * @module
 */
import { dirname, join } from 'node:path';
import type { ConnectionInfo, DiskInfo } from '../drivers/connection-info.js';
import { InvalidConnectionInfoError } from '../errors.js';
import type { BackingImage } from '../images/image-gate.js';
import { quoteInput } from '../text/quote-input.js';
import {
  IOTUNE_KEYS,
  type GuestDiskBackingStore,
  type GuestDiskBlockIo,
  type GuestDiskConfig,
  type GuestDiskIotune,
} from './guest-disk-config.js';

/** Options of {@link buildGuestDiskConfig}. */
export interface BuildGuestDiskConfigOptions {
  /**
   * UUID of the libvirt secret holding the volume's LUKS passphrase. When given, the disk gets
   * `<encryption format="luks">` with that secret (Nova finds it with
   * `host.find_secret('volume', volume_id)`; here the caller looks it up).
   */
  encryptionSecretUuid?: string;
  /**
   * The volume's backing chain as the image gate (`checkImage()`) found it, top first: sibling
   * file names of the image with their formats. Written as an explicit nested `<backingStore>`
   * chain; absent or empty writes `<backingStore/>`, so libvirt never follows a backing file
   * named in an image it was not shown.
   * @default []
   */
  backingChain?: readonly BackingImage[];
  /**
   * Write `<alias name="ua-<volume id>"/>` (Nova 29.0.0 and later). Set `false` for the older
   * XML without it.
   * @default true
   */
  alias?: boolean;
}

/**
 * Builds the `<disk>` model of a Quobyte volume.
 *
 * Nova parity: type `file`, driver `qemu`, format `data.format` or `raw`, cache `none`, io
 * `native`; `<serial>` from `ci.serial`; `<readonly/>` for `access_mode: 'ro'`; `<shareable/>`
 * for `multiattach: true`; `discard="unmap"` only for `data.discard === true` (the string
 * `'true'` does not count); `<iotune>` from the allowed `qos_specs` keys; `<blockio>`; a drive
 * address on the `scsi` bus when `diskInfo.unit` is given.
 *
 * Differences from Nova, on purpose:
 * - No `<alias>` when there is neither a volume id nor a serial (Nova writes `ua-None`).
 * - Empty strings count as absent (`serial`, `volume_id`, QoS and block size values), so no
 *   empty element or attribute is produced that libvirt would reject.
 * - A `qos_specs` that is not a plain object, a QoS value that is neither a string nor a finite
 *   number, and a SCSI unit that is not a non-negative integer are ignored.
 *
 * - `<backingStore/>` (or the explicit chain from `options.backingChain`): libvirt is told what
 *   it may open instead of reading it from a header a tenant wrote (OSSA-2024-001).
 * - An encrypted volume (`data.encrypted: true`) without `encryptionSecretUuid` is refused;
 *   Nova writes such a disk without `<encryption>` when it finds no secret, and the guest then
 *   sees ciphertext or, worse, writes in clear.
 * - `format` absent or `null` is `raw` (Nova writes no `type` for `null`; libvirt then assumes
 *   raw too).
 *
 * Input is expected to be validated by the caller.
 *
 * @param ci - Connection info as Cinder returns it.
 * @param diskInfo - Where the disk goes in the guest (bus, device name, device type, SCSI unit).
 * @param sourcePath - The image file on the host (the driver's device path).
 * @param options - Encryption secret, backing chain and alias switch.
 * @returns A new model; nothing in it is shared with the inputs.
 * @throws {@link InvalidConnectionInfoError} (field `data.encrypted`) for an encrypted volume
 *   without a secret
 * @throws TypeError when `encryptionSecretUuid` is not a UUID or a backing chain entry is not a
 *   plain file name of format `raw` or `qcow2`
 */
export function buildGuestDiskConfig(
  ci: ConnectionInfo,
  diskInfo: DiskInfo,
  sourcePath: string,
  options: BuildGuestDiskConfigOptions = {},
): GuestDiskConfig {
  const data = ci.data;
  const secretUuid = options.encryptionSecretUuid;
  if (secretUuid !== undefined && (typeof secretUuid !== 'string' || !UUID.test(secretUuid))) {
    throw new TypeError(`Expected encryptionSecretUuid to be a UUID, got ${quoteInput(secretUuid)}`);
  }
  if (data.encrypted === true && secretUuid === undefined) {
    throw new InvalidConnectionInfoError('data.encrypted', 'is true but no encryptionSecretUuid was given: an encrypted volume is never attached without its secret');
  }
  const config: GuestDiskConfig = {
    sourceType: 'file',
    sourceDevice: diskInfo.type,
    // Nova sets the name only for virt_type qemu/kvm, the only hypervisors this library serves.
    driverName: 'qemu',
    driverFormat: data.format ?? 'raw',
    // Nova's Quobyte constants. io="native" needs O_DIRECT, i.e. cache "none" or "directsync"
    // (LP #1841363), and a shareable (multiattach) disk must not be cached by the host.
    driverCache: 'none',
    driverIo: 'native',
    sourcePath,
    backingChain: buildBackingChain(dirname(sourcePath), options.backingChain ?? []),
    targetDev: diskInfo.dev,
    targetBus: diskInfo.bus,
    readOnly: data.access_mode === 'ro',
    shareable: ci.multiattach === true,
  };

  // Identity with `true`, as Nova's `data.get('discard', False) is True`.
  if (data.discard === true) {
    config.driverDiscard = 'unmap';
  }

  // Nova: `data.get('volume_id') or connection_info.get('serial')`.
  const volumeId = nonEmpty(data.volume_id) ?? nonEmpty(ci.serial);
  if (volumeId !== undefined && options.alias !== false) {
    config.alias = `ua-${volumeId}`;
  }

  const serial = nonEmpty(ci.serial);
  if (serial !== undefined) {
    config.serial = serial;
  }

  const iotune = buildIotune(data.qos_specs);
  if (iotune !== undefined) {
    config.iotune = iotune;
  }

  const blockio = buildBlockIo(data.logical_block_size, data.physical_block_size);
  if (blockio !== undefined) {
    config.blockio = blockio;
  }

  // Nova sets the address only when it picked the unit itself, so that up to 256 disks fit on
  // the one virtio-scsi controller (index 0) it creates; otherwise libvirt chooses (LP #1792077).
  const unit = diskInfo.unit;
  if (diskInfo.bus === 'scsi' && typeof unit === 'number' && Number.isSafeInteger(unit) && unit >= 0) {
    config.address = { type: 'drive', controller: 0, unit };
  }

  if (secretUuid !== undefined) {
    config.encryption = { format: 'luks', secretUuid };
  }

  return config;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The gate's sibling names as host paths; anything else is a caller's mistake, never written. */
function buildBackingChain(directory: string, chain: readonly BackingImage[]): GuestDiskBackingStore[] {
  return chain.map(({ name, format }, index) => {
    if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || name.includes('/')) {
      throw new TypeError(`Expected backingChain[${index}].name to be a file name, got ${quoteInput(name)}`);
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers
    if (format !== 'raw' && format !== 'qcow2') {
      throw new TypeError(`Expected backingChain[${index}].format to be "raw" or "qcow2", got ${quoteInput(format)}`);
    }
    return { format, sourcePath: join(directory, name) };
  });
}

/** The allowed `qos_specs` keys, in {@link IOTUNE_KEYS} order; `undefined` when none is usable. */
function buildIotune(qosSpecs: unknown): GuestDiskIotune | undefined {
  if (!isPlainObject(qosSpecs)) {
    return undefined;
  }
  const iotune: GuestDiskIotune = {};
  let found = false;
  for (const key of IOTUNE_KEYS) {
    const value = Object.hasOwn(qosSpecs, key) ? toDecimalString(qosSpecs[key]) : undefined;
    if (value !== undefined) {
      iotune[key] = value;
      found = true;
    }
  }
  return found ? iotune : undefined;
}

function buildBlockIo(logical: unknown, physical: unknown): GuestDiskBlockIo | undefined {
  const blockio: GuestDiskBlockIo = {};
  const logicalBlockSize = toDecimalString(logical);
  const physicalBlockSize = toDecimalString(physical);
  if (logicalBlockSize !== undefined) {
    blockio.logicalBlockSize = logicalBlockSize;
  }
  if (physicalBlockSize !== undefined) {
    blockio.physicalBlockSize = physicalBlockSize;
  }
  return logicalBlockSize === undefined && physicalBlockSize === undefined ? undefined : blockio;
}

/** A non-empty string as it is, a finite number in decimal; anything else is absent. */
function toDecimalString(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return nonEmpty(value);
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    return String(value);
  }
  return undefined;
}

/** A non-empty string; anything else (also `null` from JSON) is absent. */
function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Nova's `isinstance(specs, dict)`: an object literal or `Object.create(null)`, not an array or class instance. */
function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
