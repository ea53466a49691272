import { expect } from 'chai';
import fc from 'fast-check';
import { parseQcow2Header, QCOW2_MAX_BACKING_NAME_BYTES, type Qcow2Header } from '../../lib/images/qcow2-header.js';
import { BACKING_FORMAT, DATA_FILE, qcow2, type Qcow2Fixture } from './qcow2-fixture.js';

function parsed(fixture: Qcow2Fixture): Qcow2Header {
  const result = parseQcow2Header(qcow2(fixture));
  if (!result.ok) throw new Error(`expected a header, got: ${result.reason}`);
  return result.header;
}

function reason(bytes: Uint8Array): string {
  const result = parseQcow2Header(bytes);
  if (result.ok) throw new Error('expected a refusal');
  return result.reason;
}

describe('parseQcow2Header()', () => {
  it('reads a plain version 3 header', () => {
    const header = parsed({ virtualSize: 10n * 1024n ** 3n });
    expect(header).to.deep.equal({ version: 3, clusterSize: 65536, virtualSize: 10 * 1024 ** 3, cryptMethod: 0, incompatibleFeatures: 0n, autoclearFeatures: 0n, extensionTypes: [] });
  });

  it('reads a version 2 header (no feature fields)', () => {
    const header = parsed({ version: 2, backing: 'base', extensions: [[BACKING_FORMAT, 'qcow2']] });
    expect(header.version).to.equal(2);
    expect(Buffer.from(header.backingFile!).toString()).to.equal('base');
    expect(header.backingFormat).to.equal('qcow2');
  });

  it('reads the backing file name and format', () => {
    const header = parsed({ backing: 'volume-1.snap', extensions: [[BACKING_FORMAT, 'raw']] });
    expect(Buffer.from(header.backingFile!).toString()).to.equal('volume-1.snap');
    expect(header.backingFormat).to.equal('raw');
    expect(header.extensionTypes).to.deep.equal([BACKING_FORMAT]);
  });

  it('treats a zero backing_file_size as no backing file, as QEMU does', () => {
    expect(parsed({ backing: 'x', backingSize: 0 }).backingFile).to.equal(undefined);
  });

  it('lists the data file extension and the feature bits for the gate', () => {
    const header = parsed({ incompatible: 4n, autoclear: 2n, extensions: [[DATA_FILE, 'data.raw']] });
    expect(header.incompatibleFeatures).to.equal(4n);
    expect(header.autoclearFeatures).to.equal(2n);
    expect(header.extensionTypes).to.deep.equal([DATA_FILE]);
  });

  it('accepts every known incompatible bit but the data file is left to the gate', () => {
    expect(parsed({ incompatible: 0b11111n }).incompatibleFeatures).to.equal(0b11111n);
  });

  const refusals: Array<[string, Uint8Array, RegExp]> = [
    ['no magic', new Uint8Array(4096), /not a qcow2 image/],
    ['a file shorter than a header', qcow2().subarray(0, 40), /not a qcow2 image/],
    ['version 1', qcow2({ version: 1 }), /version 1, not 2 or 3/],
    ['version 4', qcow2({ version: 4 }), /version 4, not 2 or 3/],
    ['a truncated version 3 header', qcow2().subarray(0, 90), /truncated/],
    ['cluster_bits 8', qcow2({ clusterBits: 8 }), /cluster_bits 8/],
    ['cluster_bits 22', qcow2({ clusterBits: 22 }), /cluster_bits 22/],
    ['header_length 100', qcow2({ headerLength: 100, noEnd: true }), /header_length 100/],
    ['header_length not a multiple of 8', qcow2({ headerLength: 108 }), /header_length 108/],
    ['unknown incompatible bit 5', qcow2({ incompatible: 1n << 5n }), /unknown incompatible feature bits 0x20/],
    ['unknown incompatible bit 63', qcow2({ incompatible: 1n << 63n }), /unknown incompatible/],
    ['a virtual size beyond 2^53', qcow2({ virtualSize: 1n << 60n }), /implausible virtual size/],
    ['a backing name of 1024 bytes', qcow2({ backing: 'a'.repeat(1024) }), /1024 bytes, more than 1023/],
    ['a backing name inside the fixed header', qcow2({ backing: 'x', backingOffset: 8n }), /outside its header/],
    ['a backing name past the first cluster', qcow2({ clusterBits: 9, backing: 'x', backingOffset: 600n }), /outside its header/],
    ['a backing name past the bytes read', qcow2({ backing: 'x', backingOffset: 5000n }), /beyond the bytes inspected/],
    ['extensions without an end marker that run off the bytes read', qcow2({ extensions: [[0x1234, 'x'.repeat(4072)]], noEnd: true, length: 4200 }).subarray(0, 4188), /beyond the bytes inspected/],
    ['an extension longer than the space before the backing name', qcow2({ backing: 'base', backingOffset: 114n, extensions: [[BACKING_FORMAT, 'qcow2']] }), /longer than the space/],
    ['a backing format name of 16 bytes', qcow2({ extensions: [[BACKING_FORMAT, 'q'.repeat(16)]] }), /backing format name that is too long/],
  ];
  for (const [what, bytes, why] of refusals) {
    it(`refuses ${what}`, () => {
      expect(reason(bytes)).to.match(why);
    });
  }

  it(`accepts a backing name of exactly ${QCOW2_MAX_BACKING_NAME_BYTES} bytes`, () => {
    expect(parsed({ backing: 'a'.repeat(QCOW2_MAX_BACKING_NAME_BYTES) }).backingFile).to.have.length(QCOW2_MAX_BACKING_NAME_BYTES);
  });

  it('never throws and never reads past what it was given, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 512 }), fc.integer({ min: 0, max: 3 }), (tail, version) => {
        const bytes = qcow2({ version, length: 512 });
        bytes.set(tail.subarray(0, 512 - 8), 8);
        const result = parseQcow2Header(bytes);
        if (result.ok && result.header.backingFile !== undefined) expect(result.header.backingFile.length).to.be.at.most(QCOW2_MAX_BACKING_NAME_BYTES);
      }),
      { numRuns: 500 },
    );
  });
});
