import { InvalidConnectionInfoError } from '../errors.js';
import { IOTUNE_KEYS } from '../libvirt/guest-disk-config.js';
import { quoteInput } from '../text/quote-input.js';
import type { ConnectionInfo } from './connection-info.js';

/** NUL, C0 controls and DEL: never part of a name that reaches argv, a path or XML. */
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
/** A UTF-16 surrogate without its partner: not Unicode text at all (UTF-8 turns it into U+FFFD). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** What XML 1.0 cannot hold besides controls and surrogates: U+FFFE and U+FFFF. */
const NOT_XML_CHARACTER = /[\uFFFE\uFFFF]/;
/** Longest file name Linux accepts (NAME_MAX), in bytes. */
const NAME_MAX_BYTES = 255;

/**
 * Length caps, in UTF-8 bytes, of the free-text fields (enumerations and decimals have their own
 * shape). Generous for real input (Cinder ids are 36 characters, Quobyte exports a few registry
 * addresses and a volume name), small enough that no field can grow a mount table line, an
 * attachment record or an error message without bound.
 */
export const FIELD_MAX_BYTES: Readonly<Record<string, number>> = {
  'data.export': 1024,
  'data.name': NAME_MAX_BYTES,
  'data.volume_id': 255,
  serial: 255,
  driver_volume_type: 64,
  'instance.uuid': NAME_MAX_BYTES,
};
const DEFAULT_MAX_BYTES = 255;
const FORMATS: ReadonlySet<unknown> = new Set(['raw', 'qcow2']);
const ACCESS_MODES: ReadonlySet<unknown> = new Set(['ro', 'rw']);
const DECIMAL = /^[0-9]{1,18}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** At most a few hundred characters of the input, escaped, on one line. */
const describe = quoteInput;

function fail(field: string, reason: string): never {
  throw new InvalidConnectionInfoError(field, reason);
}

/** Absent means `undefined` or `null`: Cinder serialises Python's `None` as `null`. */
function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

/**
 * A string safe for argv, paths and XML: non-empty, within its length cap, well-formed Unicode,
 * no control characters, nothing XML 1.0 cannot hold. Checked here, before any command runs,
 * rather than when the XML is written.
 */
function checkText(field: string, value: unknown): string {
  if (typeof value !== 'string') fail(field, `must be a string, got ${describe(value)}`);
  if (value === '') fail(field, 'must not be empty');
  const max = FIELD_MAX_BYTES[field] ?? DEFAULT_MAX_BYTES;
  // Cheap bound first: a UTF-16 unit is at least one UTF-8 byte.
  if (value.length > max || Buffer.byteLength(value) > max) fail(field, `must be at most ${max} bytes, got ${describe(value)}`);
  const surrogate = LONE_SURROGATE.exec(value);
  if (surrogate !== null) fail(field, `must be well-formed Unicode, has a lone surrogate at index ${surrogate.index}`);
  if (CONTROL_CHARACTERS.test(value)) fail(field, 'must not contain NUL or control characters');
  const notXml = NOT_XML_CHARACTER.exec(value);
  if (notXml !== null) fail(field, `must hold only characters XML 1.0 allows, has U+${notXml[0].charCodeAt(0).toString(16).toUpperCase()} at index ${notXml.index}`);
  return value;
}

/**
 * Checks a single path component: what `data.name` must be, so the device path stays inside the
 * mount path. Unusual names are fine (Cinder snapshots add `.<uuid>`, other backends differ).
 */
export function checkPathComponent(field: string, value: unknown): string {
  const name = checkText(field, value);
  if (name.includes('/')) fail(field, 'must be a single path component (no "/")');
  if (name === '.' || name === '..') fail(field, `must not be "${name}"`);
  return name;
}

function checkOptionalText(field: string, value: unknown): void {
  if (!isAbsent(value)) checkText(field, value);
}

function checkOptionalBoolean(field: string, value: unknown): void {
  if (!isAbsent(value) && typeof value !== 'boolean') fail(field, `must be a boolean, got ${describe(value)}`);
}

function checkOptionalCount(field: string, value: unknown): void {
  if (isAbsent(value)) return;
  const ok = typeof value === 'number' ? Number.isSafeInteger(value) && value >= 0 : typeof value === 'string' && DECIMAL.test(value);
  if (!ok) fail(field, `must be a non-negative integer, got ${describe(value)}`);
}


/**
 * libvirt refuses a total limit together with a read or write limit of the same kind (its
 * schema offers them as alternatives, and the hypervisor rejects the pair); refuse it here,
 * before an attach fails half-way.
 */
function checkQosCombinations(qos: Record<string, unknown>): void {
  for (const kind of ['bytes_sec', 'iops_sec', 'bytes_sec_max', 'iops_sec_max']) {
    const set = (key: string): boolean => !isAbsent(qos[key]);
    if (set(`total_${kind}`) && (set(`read_${kind}`) || set(`write_${kind}`))) {
      fail('data.qos_specs', `must not combine total_${kind} with read_${kind} or write_${kind}`);
    }
  }
}

/**
 * Checks the parts of connection info every file-system driver shares; the export's shape is the
 * backend's to check. Throws before anything runs or any path is built.
 *
 * @throws {@link InvalidConnectionInfoError} naming the first offending field
 */
export function validateConnectionInfo(ci: unknown, driverVolumeType: string): asserts ci is ConnectionInfo {
  if (!isPlainObject(ci)) fail('connection_info', `must be an object, got ${describe(ci)}`);
  const { data } = ci;
  if (!isPlainObject(data)) fail('data', `must be an object, got ${describe(data)}`);
  if (!isAbsent(ci.driver_volume_type) && ci.driver_volume_type !== driverVolumeType) {
    fail('driver_volume_type', `must be "${driverVolumeType}", got ${describe(ci.driver_volume_type)}`);
  }
  checkOptionalText('serial', ci.serial);
  checkOptionalBoolean('multiattach', ci.multiattach);

  checkText('data.export', data.export);
  checkPathComponent('data.name', data.name);
  if (!isAbsent(data.format) && !FORMATS.has(data.format)) {
    fail('data.format', `must be "raw" or "qcow2", got ${describe(data.format)}`);
  }
  if (!isAbsent(data.access_mode) && !ACCESS_MODES.has(data.access_mode)) {
    fail('data.access_mode', `must be "ro" or "rw", got ${describe(data.access_mode)}`);
  }
  checkOptionalBoolean('data.discard', data.discard);
  checkOptionalBoolean('data.encrypted', data.encrypted);
  checkOptionalCount('data.logical_block_size', data.logical_block_size);
  checkOptionalCount('data.physical_block_size', data.physical_block_size);
  checkOptionalText('data.volume_id', data.volume_id);
  if (!isAbsent(data.qos_specs)) {
    if (!isPlainObject(data.qos_specs)) fail('data.qos_specs', `must be an object, got ${describe(data.qos_specs)}`);
    for (const key of IOTUNE_KEYS) checkOptionalCount(`data.qos_specs.${key}`, data.qos_specs[key]);
    checkQosCombinations(data.qos_specs);
  }
}

/**
 * Checks the guest reference and builds the attachment id
 * `<instance uuid>/<volume id, else serial, else name>`.
 *
 * @throws {@link InvalidConnectionInfoError}
 */
export function attachmentIdOf(ci: ConnectionInfo, instance: unknown): string {
  if (!isPlainObject(instance)) fail('instance', `must be an object, got ${describe(instance)}`);
  const uuid = checkPathComponent('instance.uuid', instance.uuid);
  const volume = ci.data.volume_id ?? ci.serial ?? ci.data.name;
  return `${uuid}/${volume}`;
}
