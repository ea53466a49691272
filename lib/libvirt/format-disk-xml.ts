/**
 * The libvirt `<disk>` element as text, in the element and attribute order of Nova's
 * `LibvirtConfigGuestDisk.format_dom` (nova/virt/libvirt/config.py), so that the XML of a volume
 * attached by this library reads the same as one attached by Nova.
 *
 * @module
 */
import { IOTUNE_KEYS, type GuestDiskConfig } from './guest-disk-config.js';
import { XmlElement } from './xml-element.js';

/**
 * Writes the libvirt `<disk>` element of a volume.
 *
 * Order, as Nova writes it: `<driver name type cache discard io>`, `<alias name>`,
 * `<source file>`, then `<backingStore>` (which Nova never writes; libvirt writes it there),
 * `<target dev bus>`, `<serial>` (not for a `lun` device), `<iotune>` with its
 * children in `IOTUNE_KEYS` order (left out when empty), `<blockio logical_block_size
 * physical_block_size>` (not for a `lun` device), `<readonly/>`, `<shareable/>`, `<address type controller unit>`,
 * `<encryption format>` with `<secret type="passphrase" uuid>`. Absent optional fields write
 * nothing.
 *
 * The text is indented by two spaces, attributes are double-quoted, and there is no XML
 * declaration and no trailing newline, so it can be embedded in a domain or passed to
 * `virsh attach-device` as it is. Every value is escaped, including `&` sequences that look like
 * entities and the tab, newline and carriage return, which are written as character references
 * so that a parser gives back exactly the original value.
 *
 * @param config - The disk model, usually from `buildGuestDiskConfig()`.
 * @returns The `<disk>` element.
 * @throws TypeError when a value holds a character XML 1.0 cannot represent at all (NUL and the
 *   other C0 controls except tab, newline and carriage return, U+FFFE, U+FFFF, a lone
 *   surrogate). Nova's lxml refuses the same values.
 *
 * @example
 * ```ts
 * formatDiskXml({
 *   sourceType: 'file',
 *   sourceDevice: 'disk',
 *   driverName: 'qemu',
 *   driverFormat: 'raw',
 *   driverCache: 'none',
 *   driverIo: 'native',
 *   sourcePath: '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001',
 *   targetDev: 'vde',
 *   targetBus: 'virtio',
 *   readOnly: false,
 *   shareable: false,
 * });
 * // <disk type="file" device="disk">
 * //   <driver name="qemu" type="raw" cache="none" io="native"/>
 * //   <source file="/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001"/>
 * //   <target dev="vde" bus="virtio"/>
 * // </disk>
 * ```
 */
export function formatDiskXml(config: GuestDiskConfig): string {
  const disk = new XmlElement('disk');
  disk.att('type', config.sourceType, 'sourceType');
  disk.att('device', config.sourceDevice, 'sourceDevice');

  const driver = disk.ele('driver');
  driver.att('name', config.driverName, 'driverName');
  driver.att('type', config.driverFormat, 'driverFormat');
  driver.att('cache', config.driverCache, 'driverCache');
  driver.att('discard', config.driverDiscard, 'driverDiscard');
  driver.att('io', config.driverIo, 'driverIo');

  if (config.alias !== undefined) {
    disk.ele('alias').att('name', config.alias, 'alias');
  }

  disk.ele('source').att('file', config.sourcePath, 'sourcePath');

  // Where libvirt writes it: right after <source>. Each level nests the one below it.
  if (config.backingChain !== undefined) {
    let parent = disk;
    for (const [index, image] of config.backingChain.entries()) {
      parent = parent.ele('backingStore');
      parent.att('type', 'file', `backingChain[${index}].type`);
      parent.ele('format').att('type', image.format, `backingChain[${index}].format`);
      parent.ele('source').att('file', image.sourcePath, `backingChain[${index}].sourcePath`);
    }
    parent.ele('backingStore');
  }

  const target = disk.ele('target');
  target.att('dev', config.targetDev, 'targetDev');
  target.att('bus', config.targetBus, 'targetBus');

  // Nova (master) leaves the serial out for a `lun`: libvirt refuses one there.
  if (config.serial !== undefined && config.sourceDevice !== 'lun') {
    disk.ele('serial').txt(config.serial, 'serial');
  }

  // Iterate the fixed key list, not the object, so that the order never depends on how the
  // object was built and keys outside the list are never written.
  const iotune = config.iotune;
  if (iotune !== undefined && IOTUNE_KEYS.some((key) => iotune[key] !== undefined)) {
    const element = disk.ele('iotune');
    for (const key of IOTUNE_KEYS) {
      const value = iotune[key];
      if (value !== undefined) {
        element.ele(key).txt(value, `iotune.${key}`);
      }
    }
  }

  // Nova (master, bug 2127196) leaves block sizes out for a `lun`: QEMU's scsi-block has none.
  const blockio = config.blockio;
  if (config.sourceDevice !== 'lun' && blockio !== undefined && (blockio.logicalBlockSize !== undefined || blockio.physicalBlockSize !== undefined)) {
    const element = disk.ele('blockio');
    element.att('logical_block_size', blockio.logicalBlockSize, 'blockio.logicalBlockSize');
    element.att('physical_block_size', blockio.physicalBlockSize, 'blockio.physicalBlockSize');
  }

  if (config.readOnly) {
    disk.ele('readonly');
  }
  if (config.shareable) {
    disk.ele('shareable');
  }

  if (config.address !== undefined) {
    const element = disk.ele('address');
    element.att('type', config.address.type, 'address.type');
    element.att('controller', String(config.address.controller), 'address.controller');
    element.att('unit', String(config.address.unit), 'address.unit');
  }

  if (config.encryption !== undefined) {
    const element = disk.ele('encryption');
    element.att('format', config.encryption.format, 'encryption.format');
    const secret = element.ele('secret');
    secret.att('type', 'passphrase', 'encryption.secret.type');
    secret.att('uuid', config.encryption.secretUuid, 'encryption.secretUuid');
  }

  return disk.toString();
}
