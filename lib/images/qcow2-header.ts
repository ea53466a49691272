/**
 * A pure, bounded reader of the qcow2 header fields that decide which other files QEMU opens
 * (docs/interop/qcow2.txt in QEMU; OSSA-2024-001 / CVE-2024-32498). It never does I/O: the caller
 * reads at most `QCOW2_HEADER_READ_BYTES` bytes from offset 0 and hands them over.
 *
 * @module
 */

/** `QFI\xfb`. */
export const QCOW2_MAGIC = 0x51_46_49_fb;
/** The most this library ever reads of an image: the whole header area QEMU itself writes. */
export const QCOW2_HEADER_READ_BYTES = 64 * 1024;
/** QEMU refuses a longer backing file name (`block/qcow2.c`: `MIN(1023, cluster_size - offset)`). */
export const QCOW2_MAX_BACKING_NAME_BYTES = 1023;

/** Incompatible feature bits (qcow2.txt, bytes 72-79). */
export const INCOMPATIBLE_DIRTY = 1n << 0n;
export const INCOMPATIBLE_CORRUPT = 1n << 1n;
/** The image's data lives in another file, named by the 0x44415441 extension. */
export const INCOMPATIBLE_EXTERNAL_DATA_FILE = 1n << 2n;
export const INCOMPATIBLE_COMPRESSION_TYPE = 1n << 3n;
export const INCOMPATIBLE_EXTENDED_L2 = 1n << 4n;
/** Every incompatible bit QEMU defines except the external data file, which is refused anyway. */
const KNOWN_INCOMPATIBLE = INCOMPATIBLE_DIRTY | INCOMPATIBLE_CORRUPT | INCOMPATIBLE_EXTERNAL_DATA_FILE | INCOMPATIBLE_COMPRESSION_TYPE | INCOMPATIBLE_EXTENDED_L2;
/** Autoclear bit 1: "raw external data", meaningful only with an external data file. */
export const AUTOCLEAR_RAW_EXTERNAL_DATA = 1n << 1n;

/** Header extension types (qcow2.txt, "Header extensions"). */
export const EXTENSION_END = 0x0000_0000;
export const EXTENSION_BACKING_FORMAT = 0xe279_2aca;
export const EXTENSION_EXTERNAL_DATA_FILE = 0x4441_5441;

/** What {@link parseQcow2Header} found, or why the bytes are not a header it accepts to describe. */
export type Qcow2HeaderResult = { ok: true; header: Qcow2Header } | { ok: false; reason: string };

/** The fields of a qcow2 header that matter for safety. */
export interface Qcow2Header {
  /** 2 or 3. */
  version: number;
  /** Bytes per cluster, `1 << cluster_bits`, 512 B to 2 MiB. */
  clusterSize: number;
  /** Guest-visible size in bytes. */
  virtualSize: number;
  /** 0 none, 1 legacy AES, 2 LUKS. */
  cryptMethod: number;
  /** Incompatible feature bits (0 for version 2). */
  incompatibleFeatures: bigint;
  /** Autoclear feature bits (0 for version 2). */
  autoclearFeatures: bigint;
  /**
   * The backing file name as raw bytes (not yet judged), or `undefined` when there is none.
   * QEMU reads exactly `backing_file_size` bytes and treats them as a C string.
   */
  backingFile?: Uint8Array;
  /** The backing format extension's text (`raw`, `qcow2`, ...), when present. */
  backingFormat?: string;
  /** The types of every header extension, in order (the end marker excluded). */
  extensionTypes: number[];
}

const V2_HEADER_LENGTH = 72;
const V3_MIN_HEADER_LENGTH = 104;

/**
 * Parses the start of a file claimed to be qcow2. Only structure is judged here (magic, version,
 * sizes and offsets in bounds, extensions well formed); whether what it names is acceptable is
 * the image gate's decision.
 *
 * @param bytes - The file's first bytes, normally `QCOW2_HEADER_READ_BYTES` of them (fewer
 *   when the file is shorter). Anything the header points at beyond them is refused, never read.
 * @returns The header, or the reason it cannot be described safely.
 */
export function parseQcow2Header(bytes: Uint8Array): Qcow2HeaderResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < V2_HEADER_LENGTH || view.getUint32(0) !== QCOW2_MAGIC) {
    return fail('is not a qcow2 image (no qcow2 magic)');
  }
  const version = view.getUint32(4);
  if (version !== 2 && version !== 3) return fail(`has qcow2 version ${version}, not 2 or 3`);

  const backingOffset = view.getBigUint64(8);
  const backingSize = view.getUint32(16);
  const clusterBits = view.getUint32(20);
  // QEMU's own limits (MIN_CLUSTER_BITS 9, MAX_CLUSTER_BITS 21).
  if (clusterBits < 9 || clusterBits > 21) return fail(`has cluster_bits ${clusterBits}, outside 9..21`);
  const clusterSize = 2 ** clusterBits;
  const size = view.getBigUint64(24);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) return fail(`has an implausible virtual size ${size}`);
  const cryptMethod = view.getUint32(32);

  let headerLength = V2_HEADER_LENGTH;
  let incompatibleFeatures = 0n;
  let autoclearFeatures = 0n;
  if (version === 3) {
    if (bytes.byteLength < V3_MIN_HEADER_LENGTH) return fail('has a truncated version 3 header');
    incompatibleFeatures = view.getBigUint64(72);
    autoclearFeatures = view.getBigUint64(88);
    headerLength = view.getUint32(100);
    if (headerLength < V3_MIN_HEADER_LENGTH || headerLength % 8 !== 0 || headerLength > clusterSize) {
      return fail(`has an invalid header_length ${headerLength}`);
    }
  }
  const unknown = incompatibleFeatures & ~KNOWN_INCOMPATIBLE;
  if (unknown !== 0n) return fail(`sets unknown incompatible feature bits 0x${unknown.toString(16)}`);

  let backingFile: Uint8Array | undefined;
  if (backingOffset !== 0n && backingSize !== 0) {
    if (backingSize > QCOW2_MAX_BACKING_NAME_BYTES) return fail(`has a backing file name of ${backingSize} bytes, more than ${QCOW2_MAX_BACKING_NAME_BYTES}`);
    const end = backingOffset + BigInt(backingSize);
    if (backingOffset < BigInt(headerLength) || end > BigInt(clusterSize)) return fail('has a backing file name outside its header');
    if (end > BigInt(bytes.byteLength)) return fail('has a backing file name beyond the bytes inspected');
    backingFile = bytes.slice(Number(backingOffset), Number(end));
  }

  // QEMU reads extensions from the header's end up to the backing file name, else to the end of
  // the first cluster (qcow2_do_open / qcow2_read_extensions).
  const extensionsEnd = backingOffset !== 0n ? Math.min(Number(backingOffset), clusterSize) : clusterSize;
  const extensions = readExtensions(bytes, view, headerLength, extensionsEnd);
  if (!extensions.ok) return extensions;

  const header: Qcow2Header = {
    version,
    clusterSize,
    virtualSize: Number(size),
    cryptMethod,
    incompatibleFeatures,
    autoclearFeatures,
    extensionTypes: extensions.types,
  };
  if (backingFile !== undefined) header.backingFile = backingFile;
  if (extensions.backingFormat !== undefined) header.backingFormat = extensions.backingFormat;
  return { ok: true, header };
}

type Extensions = { ok: true; types: number[]; backingFormat?: string } | { ok: false; reason: string };

function readExtensions(bytes: Uint8Array, view: DataView, start: number, end: number): Extensions {
  const types: number[] = [];
  let backingFormat: string | undefined;
  let offset = start;
  while (offset < end) {
    if (offset + 8 > bytes.byteLength) return fail('has header extensions beyond the bytes inspected');
    const type = view.getUint32(offset);
    const length = view.getUint32(offset + 4);
    if (type === EXTENSION_END) break;
    offset += 8;
    if (length > end - offset) return fail(`has a header extension 0x${type.toString(16)} longer than the space for it`);
    if (offset + length > bytes.byteLength) return fail('has header extensions beyond the bytes inspected');
    types.push(type);
    if (type === EXTENSION_BACKING_FORMAT) {
      // QEMU refuses a backing format name that does not fit its 16-byte buffer.
      if (length > 15) return fail('has a backing format name that is too long');
      backingFormat = Buffer.from(bytes.subarray(offset, offset + length)).toString('latin1');
    }
    offset += Math.ceil(length / 8) * 8;
  }
  return backingFormat === undefined ? { ok: true, types } : { ok: true, types, backingFormat };
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
