/**
 * The libvirt `<disk>` element as text, in the element and attribute order of Nova's
 * `LibvirtConfigGuestDisk.format_dom` (nova/virt/libvirt/config.py), so that the XML of a volume
 * attached by this library reads the same as one attached by Nova.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type { create } from 'xmlbuilder2';
import { IOTUNE_KEYS, type GuestDiskConfig } from './guest-disk-config.js';

/** xmlbuilder2's node builder, named without reaching into its `lib/` folder. */
type XMLBuilder = ReturnType<typeof create>;

/**
 * xmlbuilder2's `create`, loaded at the first call: importing it costs more than the rest of the
 * package together (about 100 ms), and most processes that import the package (an agent that
 * only mounts, the CLI's `status`) never build XML. xmlbuilder2 is CommonJS, so `require` loads
 * it synchronously and `formatDiskXml` stays synchronous. Kept here after the first call.
 */
let createDocument: typeof create | undefined;

function loadCreate(): typeof create {
  createDocument ??= (createRequire(import.meta.url)('xmlbuilder2') as typeof import('xmlbuilder2')).create;
  return createDocument;
}

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
  const disk = loadCreate()().ele('disk');
  setAttribute(disk, 'type', config.sourceType, 'sourceType');
  setAttribute(disk, 'device', config.sourceDevice, 'sourceDevice');

  const driver = disk.ele('driver');
  setAttribute(driver, 'name', config.driverName, 'driverName');
  setAttribute(driver, 'type', config.driverFormat, 'driverFormat');
  setAttribute(driver, 'cache', config.driverCache, 'driverCache');
  setAttribute(driver, 'discard', config.driverDiscard, 'driverDiscard');
  setAttribute(driver, 'io', config.driverIo, 'driverIo');

  if (config.alias !== undefined) {
    setAttribute(disk.ele('alias'), 'name', config.alias, 'alias');
  }

  setAttribute(disk.ele('source'), 'file', config.sourcePath, 'sourcePath');

  // Where libvirt writes it: right after <source>. Each level nests the one below it.
  if (config.backingChain !== undefined) {
    let parent = disk;
    for (const [index, image] of config.backingChain.entries()) {
      parent = parent.ele('backingStore');
      setAttribute(parent, 'type', 'file', `backingChain[${index}].type`);
      setAttribute(parent.ele('format'), 'type', image.format, `backingChain[${index}].format`);
      setAttribute(parent.ele('source'), 'file', image.sourcePath, `backingChain[${index}].sourcePath`);
    }
    parent.ele('backingStore');
  }

  const target = disk.ele('target');
  setAttribute(target, 'dev', config.targetDev, 'targetDev');
  setAttribute(target, 'bus', config.targetBus, 'targetBus');

  // Nova (master) leaves the serial out for a `lun`: libvirt refuses one there.
  if (config.serial !== undefined && config.sourceDevice !== 'lun') {
    setText(disk.ele('serial'), config.serial, 'serial');
  }

  // Iterate the fixed key list, not the object, so that the order never depends on how the
  // object was built and keys outside the list are never written.
  const iotune = config.iotune;
  if (iotune !== undefined && IOTUNE_KEYS.some((key) => iotune[key] !== undefined)) {
    const element = disk.ele('iotune');
    for (const key of IOTUNE_KEYS) {
      const value = iotune[key];
      if (value !== undefined) {
        setText(element.ele(key), value, `iotune.${key}`);
      }
    }
  }

  // Nova (master, bug 2127196) leaves block sizes out for a `lun`: QEMU's scsi-block has none.
  const blockio = config.blockio;
  if (config.sourceDevice !== 'lun' && blockio !== undefined && (blockio.logicalBlockSize !== undefined || blockio.physicalBlockSize !== undefined)) {
    const element = disk.ele('blockio');
    setAttribute(element, 'logical_block_size', blockio.logicalBlockSize, 'blockio.logicalBlockSize');
    setAttribute(element, 'physical_block_size', blockio.physicalBlockSize, 'blockio.physicalBlockSize');
  }

  if (config.readOnly) {
    disk.ele('readonly');
  }
  if (config.shareable) {
    disk.ele('shareable');
  }

  if (config.address !== undefined) {
    const element = disk.ele('address');
    setAttribute(element, 'type', config.address.type, 'address.type');
    setAttribute(element, 'controller', String(config.address.controller), 'address.controller');
    setAttribute(element, 'unit', String(config.address.unit), 'address.unit');
  }

  if (config.encryption !== undefined) {
    const element = disk.ele('encryption');
    setAttribute(element, 'format', config.encryption.format, 'encryption.format');
    const secret = element.ele('secret');
    setAttribute(secret, 'type', 'passphrase', 'encryption.secret.type');
    setAttribute(secret, 'uuid', config.encryption.secretUuid, 'encryption.secretUuid');
  }

  return disk.end({ headless: true, prettyPrint: true, indent: '  ', newline: '\n' });
}

/** Characters outside XML 1.0's `Char` production; no escape can represent them. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Pre-escaping for xmlbuilder2's writer (4.x). The writer escapes `<`, `>` and `"`, but leaves
 * any `&` that starts something shaped like an entity (`&name;`, `&#123;`) untouched
 * (oozcitak/xmlbuilder2#117): a path holding `&amp;` would come back as `&`, and `&foo;` would
 * make the document ill-formed. Writing every `&` as `&amp;` here, which the writer then leaves
 * alone, makes each value round-trip. Tab, newline and carriage return become character
 * references too: a parser turns them into spaces in an attribute (attribute-value
 * normalisation) and a carriage return into a newline in text. The spec pins the result against
 * a strict parser, so a change in the writer's behaviour fails the tests, not libvirt.
 */
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
const TEXT_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '\r': '&#13;' };

function setAttribute(element: XMLBuilder, name: string, value: string | undefined, field: string): void {
  if (value !== undefined) {
    element.att(name, escape(value, /[&\t\n\r]/g, ATTRIBUTE_ESCAPES, field));
  }
}

function setText(element: XMLBuilder, value: string, field: string): void {
  element.txt(escape(value, /[&\r]/g, TEXT_ESCAPES, field));
}

function escape(value: string, pattern: RegExp, escapes: Readonly<Record<string, string>>, field: string): string {
  const bad = NOT_XML_CHAR.exec(value);
  if (bad !== null) {
    const codePoint = bad[0].codePointAt(0) ?? 0;
    throw new TypeError(
      `Expected ${field} to hold only characters allowed in XML 1.0, got U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} at index ${bad.index}`,
    );
  }
  return value.replace(pattern, (char) => escapes[char] ?? char);
}
