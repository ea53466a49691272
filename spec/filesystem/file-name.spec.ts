import { expect } from 'chai';
import { decodeFileName, encodeFileName } from '../../lib/filesystem/file-name.js';

describe('encodeFileName() / decodeFileName()', () => {
  it('names a mount path or an attachment id readably, and back', () => {
    expect(encodeFileName('/var/lib/nova/mnt/c94e')).to.equal('%2Fvar%2Flib%2Fnova%2Fmnt%2Fc94e');
    expect(encodeFileName('i1/v1')).to.equal('i1%2Fv1');
    for (const value of ['/mnt/a b', '100%', 'ü/日本', 'a.b', '~!*()']) expect(decodeFileName(encodeFileName(value) ?? '')).to.equal(value);
  });

  it('never makes ., .. or a hidden name', () => {
    expect(encodeFileName('.')).to.equal('%2E');
    expect(encodeFileName('..')).to.equal('%2E.');
    expect(encodeFileName('.format')).to.equal('%2Eformat');
  });

  it('refuses what cannot be one name: empty, too long, a lone surrogate', () => {
    expect(encodeFileName('')).to.equal(undefined);
    expect(encodeFileName('x'.repeat(231))).to.equal(undefined);
    expect(encodeFileName('/'.repeat(77))).to.equal(undefined);
    expect(encodeFileName('\uD800')).to.equal(undefined);
  });

  it('reads only the one canonical name of each string', () => {
    expect(decodeFileName('i1%2fv1')).to.equal(undefined);
    expect(decodeFileName('i1/v1')).to.equal(undefined);
    expect(decodeFileName('%ZZ')).to.equal(undefined);
    expect(decodeFileName('.format')).to.equal(undefined);
    expect(decodeFileName('%2E')).to.equal('.');
  });
});
