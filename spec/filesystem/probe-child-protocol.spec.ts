import { expect } from 'chai';
import { LineDecoder, encodeRequest, parseMessage, probeError, requestPath, toCallResults, toErrnoException, toPathStat } from '../../lib/filesystem/probe-child-protocol.js';

describe('probe child protocol', () => {
  describe('encodeRequest()', () => {
    it('writes one JSON object on one line', () => {
      const line = encodeRequest({ id: 7, op: 'read', path: '/a\nb', position: 0, length: 32 });
      expect(line.endsWith('\n')).to.be.true;
      expect(line.slice(0, -1)).to.not.include('\n');
      expect(JSON.parse(line)).to.deep.equal({ id: 7, op: 'read', path: '/a\nb', position: 0, length: 32 });
    });
  });

  describe('parseMessage()', () => {
    it('reads the ready message', () => {
      expect(parseMessage('{"ready":1234}')).to.deep.equal({ kind: 'ready', pid: 1234 });
    });

    it('reads an answer, whatever its value', () => {
      expect(parseMessage('{"id":3,"ok":"/real"}')).to.deep.equal({ kind: 'ok', id: 3, value: '/real' });
      expect(parseMessage('{"id":4,"ok":null}')).to.deep.equal({ kind: 'ok', id: 4, value: null });
    });

    it('reads an error with its errno fields, and drops fields of the wrong type', () => {
      expect(parseMessage('{"id":5,"error":{"code":"ENOENT","message":"ENOENT: no such file","errno":-2,"syscall":"stat","path":"/x"}}')).to.deep.equal({
        kind: 'error', id: 5, error: { code: 'ENOENT', message: 'ENOENT: no such file', errno: -2, syscall: 'stat', path: '/x' },
      });
      expect(parseMessage('{"id":6,"error":{"code":5,"message":"odd","errno":"x"}}')).to.deep.equal({ kind: 'error', id: 6, error: { message: 'odd' } });
    });

    for (const line of ['[]', 'null', '"ready"', '{"id":"1","ok":1}', '{"ok":1}', '{"id":1}', '{"id":1,"error":"boom"}', '{"id":1,"error":{}}']) {
      it(`refuses ${line}`, () => {
        expect(() => parseMessage(line)).to.throw(SyntaxError);
      });
    }

    it('refuses a line that is not JSON', () => {
      expect(() => parseMessage('Debugger listening')).to.throw(SyntaxError);
    });
  });

  describe('LineDecoder', () => {
    it('returns complete lines only, across chunks', () => {
      const decoder = new LineDecoder();
      expect(decoder.push('{"a"')).to.deep.equal([]);
      expect(decoder.push(':1}\n{"b":2}\n{"c"')).to.deep.equal(['{"a":1}', '{"b":2}']);
      expect(decoder.push(':3}\n')).to.deep.equal(['{"c":3}']);
    });

    it('skips empty lines', () => {
      expect(new LineDecoder().push('\n\n{}\n')).to.deep.equal(['{}']);
    });
  });

  describe('toErrnoException()', () => {
    it('rebuilds an Error with the child\'s code, errno, syscall and path', () => {
      const error = toErrnoException({ code: 'ENOTCONN', message: 'ENOTCONN: stat \'/m\'', errno: -107, syscall: 'stat', path: '/m' });
      expect(error).to.be.instanceOf(Error);
      expect(error).to.include({ code: 'ENOTCONN', errno: -107, syscall: 'stat', path: '/m', message: 'ENOTCONN: stat \'/m\'' });
    });

    it('leaves out what the child did not say', () => {
      const error = toErrnoException({ message: 'odd' });
      expect(Object.keys(error)).to.deep.equal([]);
    });
  });

  describe('probeError()', () => {
    it('puts the code first in the message and on the error', () => {
      const error = probeError('ETIMEDOUT', 'no answer within 5 ms, stat \'/m\'', '/m');
      expect(error.message).to.equal('ETIMEDOUT: no answer within 5 ms, stat \'/m\'');
      expect(error).to.include({ code: 'ETIMEDOUT', path: '/m' });
    });
  });

  describe('toPathStat()', () => {
    const good = { size: 1, mode: 0o100644, uid: 0, gid: 0, dev: 41, ino: 9, isFile: true, isDirectory: false, isSymbolicLink: false };

    it('keeps the stat fields and nothing else', () => {
      expect(toPathStat({ ...good, extra: 'x' })).to.deep.equal(good);
    });

    it('refuses a missing or mistyped field', () => {
      expect(() => toPathStat({ ...good, ino: '9' })).to.throw(TypeError, 'stat.ino');
      expect(() => toPathStat({ ...good, isFile: 1 })).to.throw(TypeError, 'stat.isFile');
      expect(() => toPathStat('stat')).to.throw(TypeError);
    });
  });

  describe('toCallResults()', () => {
    const stat = { size: 0, mode: 0o40755, uid: 0, gid: 0, dev: 41, ino: 1, isFile: false, isDirectory: true, isSymbolicLink: false };
    const calls = [{ op: 'stat', path: '/m' }, { op: 'read', path: '/m/i', position: 0, length: 3 }, { op: 'lstat', path: '/m/j' }] as const;

    it('turns each answer into a stat, bytes, an errno error or undefined (not run)', () => {
      const results = toCallResults(calls, [{ ok: stat }, { ok: Buffer.from('QFI').toString('base64') }, null]);
      expect(results[0]?.ok).to.deep.equal(stat);
      expect(Buffer.from(results[1]?.ok as Uint8Array).toString()).to.equal('QFI');
      expect(results[2]).to.equal(undefined);
      const failed = toCallResults(calls, [{ error: { code: 'EXDEV', message: 'EXDEV: moved', path: '/m', errno: -18 } }]);
      expect(failed[0]?.error).to.be.instanceOf(Error).and.include({ code: 'EXDEV', path: '/m', errno: -18 });
      expect(failed.slice(1)).to.deep.equal([undefined, undefined]);
    });

    it('refuses what is not a batch answer', () => {
      expect(() => toCallResults(calls, { ok: stat })).to.throw(TypeError);
      expect(() => toCallResults(calls, [1])).to.throw(TypeError);
      expect(() => toCallResults(calls, [{ error: 'no' }])).to.throw(TypeError);
      expect(() => toCallResults(calls, [{ ok: { size: 1 } }])).to.throw(TypeError);
      expect(() => toCallResults(calls.slice(0, 1), [null, null])).to.throw(TypeError);
    });
  });

  describe('requestPath()', () => {
    it("is a request's path, and a batch's first call's", () => {
      expect(requestPath({ op: 'stat', path: '/a' })).to.equal('/a');
      expect(requestPath({ op: 'batch', calls: [{ op: 'lstat', path: '/b' }] })).to.equal('/b');
      expect(requestPath({ op: 'batch', calls: [] })).to.equal('');
    });
  });
});
