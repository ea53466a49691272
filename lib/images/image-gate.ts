/**
 * The image gate: what a volume's image file may make the hypervisor open. Run at every connect,
 * never cached, after the mount was validated. Everything on a share is hostile: a guest writes
 * its own disk, and another tenant may write the file next to it.
 *
 * @module
 */
import { S_IFMT, S_IFREG } from 'node:constants';
import { basename, dirname, join } from 'node:path';
import { InvalidVolumeError, UnsafeImageError } from '../errors.js';
import type { PathStat } from '../filesystem/file-system-probe.js';
import { quoteInput } from '../text/quote-input.js';
import {
  AUTOCLEAR_RAW_EXTERNAL_DATA,
  EXTENSION_EXTERNAL_DATA_FILE,
  INCOMPATIBLE_EXTERNAL_DATA_FILE,
  QCOW2_HEADER_READ_BYTES,
  parseQcow2Header,
  type Qcow2Header,
} from './qcow2-header.js';

/** Image formats the library hands to libvirt. */
export type ImageFormat = 'raw' | 'qcow2';

/**
 * How the gate looks at files. The driver passes its probe, bound to its timeouts. `readBytes`
 * should open without following a final link and without blocking on a FIFO
 * (`O_RDONLY | O_NOFOLLOW | O_NONBLOCK`); the gate also compares `lstat` before and after.
 */
export interface ImageReader {
  /** `lstat(2)`; rejects with an error whose `code` is the errno name (`ENOENT`, `ETIMEDOUT`). */
  lstat(path: string): Promise<PathStat>;
  /** Up to `length` bytes at `position` (fewer at the end of the file). */
  readBytes(path: string, position: number, length: number): Promise<Uint8Array>;
}

/** One image below the volume in its backing chain. */
export interface BackingImage {
  /** The file name, a sibling of the volume's image in the same directory. */
  name: string;
  /** The format its overlay records for it (the backing format header extension). */
  format: ImageFormat;
}

/** Options of {@link checkImage}. */
export interface CheckImageOptions {
  /**
   * The volume is encrypted (`data.encrypted`): a qcow2 image may then use LUKS encryption
   * (crypt method 2). Otherwise an encrypted qcow2 image is refused.
   * @default false
   */
  encrypted?: boolean;
  /**
   * Most images below the volume (a Cinder snapshot chain has one per snapshot).
   * @default 16
   */
  maxChainLength?: number;
}

/** What {@link checkImage} found. */
export interface ImageGateResult {
  /** The backing chain, top first, the volume's own image excluded; empty when it has none. */
  backingChain: BackingImage[];
  /** The guest-visible size of a qcow2 image (raw images are never read). */
  virtualSize?: number;
  /** `false` when the image does not exist (allowed for raw only: libvirt reports it). */
  exists: boolean;
}

const DEFAULT_MAX_CHAIN = 16;
const FORMATS: ReadonlySet<string> = new Set(['raw', 'qcow2']);
/** NUL, C0 and C1 controls, DEL; and `:`, which QEMU before 9.1 reads as a protocol prefix. */
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const NOT_IN_BACKING_NAME = /[\u0000-\u001f\u007f-\u009f/:\\]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a volume's image before libvirt may open it.
 *
 * - Every image must be a regular file: not a link, FIFO, directory or device node.
 * - `raw` images are never read: a guest may write anything, a qcow2 header included, into its
 *   own disk, and libvirt never probes a disk declared raw.
 * - `qcow2`: version 2 or 3; no external data file (incompatible bit 2, the 0x44415441
 *   extension, or autoclear bit 1); no unknown incompatible bit; no legacy AES encryption, and
 *   LUKS only for an encrypted volume; a backing file only as a plain sibling file name
 *   (no `/`, `\`, `:` (protocol or `json:` prefix), control character, not `.` or `..`) whose
 *   format extension says `raw` or `qcow2` and which passes this gate itself, at most
 *   `maxChainLength` deep, without loops. At most 64 KiB of each header is read.
 * - A missing `raw` image is allowed (libvirt reports it when it opens it); a missing `qcow2`
 *   image is refused, since what appears there later was never inspected.
 *
 * @param reader - Bounded, timed `lstat` and reads (the driver's probe).
 * @param devicePath - The volume's image: `<mount path>/<data.name>`.
 * @param format - The trusted format from connection info (`data.format`, default `raw`).
 * @param options - Encryption and chain length.
 * @returns The confined backing chain, for `<backingStore>` in the disk XML.
 * @throws {@link UnsafeImageError} (`ERR_UNSAFE_IMAGE`) when an image may make the hypervisor
 *   open anything else; `imagePath` names the file refused (the volume's or one below it)
 * @throws {@link InvalidVolumeError} (`ERR_INVALID_VOLUME`) when an image could not be looked
 *   at (timeout, I/O error); `cause` holds the reader's error
 */
export async function checkImage(reader: ImageReader, devicePath: string, format: ImageFormat, options: CheckImageOptions = {}): Promise<ImageGateResult> {
  const maxChain = options.maxChainLength ?? DEFAULT_MAX_CHAIN;
  const directory = dirname(devicePath);
  const refuse = (imagePath: string, why: string): never => {
    throw new UnsafeImageError(directory, imagePath, `Refusing the volume ${devicePath}: ${imagePath === devicePath ? 'its image' : `${imagePath} in its backing chain`} ${why}`);
  };

  const top = await lstatImage(reader, directory, devicePath);
  if (top === undefined) {
    if (format === 'raw') return { backingChain: [], exists: false };
    return refuse(devicePath, 'does not exist, so its header cannot be inspected');
  }
  checkRegularFile(top, (why) => refuse(devicePath, why));
  if (format === 'raw') return { backingChain: [], exists: true };

  const backingChain: BackingImage[] = [];
  const seen = new Set([basename(devicePath)]);
  let path = devicePath;
  let stat = top;
  let virtualSize: number | undefined;
  for (;;) {
    const header = await readHeader(reader, directory, path, stat, (why) => refuse(path, why));
    virtualSize ??= header.virtualSize;
    checkQcow2Features(header, options.encrypted === true, (why) => refuse(path, why));
    const next = backingOf(header, (why) => refuse(path, why));
    if (next === undefined) break;
    if (seen.has(next.name)) refuse(path, `names ${quoteInput(next.name)} as its backing file, which is already in the chain (a loop)`);
    if (backingChain.length >= maxChain) refuse(path, `has a backing chain longer than ${maxChain} images`);
    seen.add(next.name);
    backingChain.push(next);
    path = join(directory, next.name);
    const nextStat = await lstatImage(reader, directory, path);
    if (nextStat === undefined) refuse(path, 'does not exist');
    stat = nextStat as PathStat;
    checkRegularFile(stat, (why) => refuse(path, why));
    if (next.format === 'raw') break;
  }
  return { backingChain, virtualSize, exists: true };
}

async function lstatImage(reader: ImageReader, directory: string, path: string): Promise<PathStat | undefined> {
  try {
    return await reader.lstat(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw couldNotCheck(directory, path, error);
  }
}

function couldNotCheck(directory: string, path: string, error: unknown): InvalidVolumeError {
  return new InvalidVolumeError(directory, `The image ${path} could not be checked: ${(error as Error).message}`, { cause: error });
}

/** Regular file by its mode bits: a link, FIFO, socket, directory or device node is refused. */
function checkRegularFile(stat: PathStat, refuse: (why: string) => never): void {
  if (stat.isSymbolicLink) refuse('is a symbolic link');
  if ((stat.mode & S_IFMT) !== S_IFREG) refuse(`is not a regular file (${fileType(stat.mode)})`);
}

function fileType(mode: number): string {
  const names: Record<number, string> = { 0o010000: 'FIFO', 0o020000: 'character device', 0o040000: 'directory', 0o060000: 'block device', 0o120000: 'symbolic link', 0o140000: 'socket' };
  return names[mode & S_IFMT] ?? `mode 0o${(mode & S_IFMT).toString(8)}`;
}

async function readHeader(reader: ImageReader, directory: string, path: string, before: PathStat, refuse: (why: string) => never): Promise<Qcow2Header> {
  let bytes: Uint8Array;
  let after: PathStat | undefined;
  try {
    bytes = await reader.readBytes(path, 0, QCOW2_HEADER_READ_BYTES);
    after = await reader.lstat(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ELOOP') return refuse('is a symbolic link');
    throw couldNotCheck(directory, path, error);
  }
  // The bytes read must be those of the file that was checked: a swap in between is refused.
  if (after.isSymbolicLink || after.dev !== before.dev || after.ino !== before.ino) refuse('was replaced while it was inspected');
  const parsed = parseQcow2Header(bytes.subarray(0, QCOW2_HEADER_READ_BYTES));
  if (!parsed.ok) return refuse(parsed.reason);
  return parsed.header;
}

function checkQcow2Features(header: Qcow2Header, encrypted: boolean, refuse: (why: string) => never): void {
  if ((header.incompatibleFeatures & INCOMPATIBLE_EXTERNAL_DATA_FILE) !== 0n) refuse('uses an external data file (incompatible feature bit 2)');
  if (header.extensionTypes.includes(EXTENSION_EXTERNAL_DATA_FILE)) refuse('names an external data file (header extension 0x44415441)');
  if ((header.autoclearFeatures & AUTOCLEAR_RAW_EXTERNAL_DATA) !== 0n) refuse('sets the raw external data bit (autoclear bit 1)');
  if (header.cryptMethod === 2 && !encrypted) refuse('is LUKS-encrypted but the volume is not marked encrypted');
  if (header.cryptMethod !== 0 && header.cryptMethod !== 2) refuse(`uses crypt method ${header.cryptMethod} (only none and LUKS are accepted)`);
}

/** The backing file, when the header names one it may name. */
function backingOf(header: Qcow2Header, refuse: (why: string) => never): BackingImage | undefined {
  if (header.backingFile === undefined) return undefined;
  let name: string;
  try {
    name = UTF8.decode(header.backingFile);
  } catch {
    return refuse('names a backing file that is not valid UTF-8');
  }
  if (name === '.' || name === '..' || NOT_IN_BACKING_NAME.test(name)) {
    refuse(`names the backing file ${quoteInput(name)}; only a plain file name in the same directory is accepted`);
  }
  const format = header.backingFormat;
  if (format === undefined) refuse(`names the backing file ${quoteInput(name)} without its format (create it with -F raw|qcow2)`);
  if (!FORMATS.has(format)) refuse(`gives its backing file the format ${quoteInput(format)}; only raw and qcow2 are accepted`);
  return { name, format: format as ImageFormat };
}
