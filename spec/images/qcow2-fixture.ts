/**
 * Builds qcow2 headers byte by byte for the pure specs, with each safety-relevant field settable
 * (the real-image specs in spec/integration/ use qemu-img instead).
 */
export interface Qcow2Fixture {
  version?: number;
  clusterBits?: number;
  virtualSize?: bigint;
  cryptMethod?: number;
  incompatible?: bigint;
  autoclear?: bigint;
  headerLength?: number;
  /** Raw bytes or text of the backing file name, written after the extensions. */
  backing?: string | Uint8Array;
  /** Override the recorded backing_file_size / offset. */
  backingSize?: number;
  backingOffset?: bigint;
  /** Extensions in order, each `[type, data]`; the end marker is added unless `noEnd`. */
  extensions?: Array<[number, Uint8Array | string]>;
  noEnd?: boolean;
  /** Total length of the buffer. */
  length?: number;
}

export const BACKING_FORMAT = 0xe2792aca;
export const DATA_FILE = 0x44415441;

export function qcow2(fixture: Qcow2Fixture = {}): Uint8Array {
  const version = fixture.version ?? 3;
  const headerLength = fixture.headerLength ?? (version === 2 ? 72 : 104);
  const bytes = new Uint8Array(fixture.length ?? 4096);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x514649fb);
  view.setUint32(4, version);
  view.setUint32(20, fixture.clusterBits ?? 16);
  view.setBigUint64(24, fixture.virtualSize ?? 1048576n);
  view.setUint32(32, fixture.cryptMethod ?? 0);
  if (version >= 3 && bytes.length >= 104) {
    view.setBigUint64(72, fixture.incompatible ?? 0n);
    view.setBigUint64(88, fixture.autoclear ?? 0n);
    view.setUint32(96, 4);
    view.setUint32(100, headerLength);
  }
  let offset = headerLength;
  for (const [type, data] of fixture.extensions ?? []) {
    const payload = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    view.setUint32(offset, type);
    view.setUint32(offset + 4, payload.length);
    bytes.set(payload, offset + 8);
    offset += 8 + Math.ceil(payload.length / 8) * 8;
  }
  if (fixture.noEnd !== true && offset + 8 <= bytes.length) {
    view.setUint32(offset, 0);
    view.setUint32(offset + 4, 0);
    offset += 8;
  }
  if (fixture.backing !== undefined) {
    const name = typeof fixture.backing === 'string' ? Buffer.from(fixture.backing, 'utf8') : fixture.backing;
    const at = fixture.backingOffset ?? BigInt(offset);
    view.setBigUint64(8, at);
    view.setUint32(16, fixture.backingSize ?? name.length);
    if (Number(at) + name.length <= bytes.length) bytes.set(name, Number(at));
  }
  return bytes;
}
