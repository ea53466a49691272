import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import sinon from 'sinon';
import { InvalidVolumeError, UnsafeImageError } from '../../lib/errors.js';
import type { PathStat } from '../../lib/filesystem/file-system-probe.js';
import { checkImage, type ImageReader } from '../../lib/images/image-gate.js';
import { BACKING_FORMAT, DATA_FILE, qcow2, type Qcow2Fixture } from './qcow2-fixture.js';

use(chaiAsPromised);

const DIR = '/mnt/base/0123456789abcdef0123456789abcdef';
const TOP = `${DIR}/volume-1`;
const S_IFREG = 0o100000;

interface FakeFile {
  mode?: number;
  bytes?: Uint8Array;
  symlink?: boolean;
  ino?: number;
}

function stat(file: FakeFile, ino: number): PathStat {
  const mode = file.symlink === true ? 0o120777 : (file.mode ?? S_IFREG | 0o644);
  return { size: file.bytes?.length ?? 0, mode, uid: 0, gid: 0, isFile: (mode & 0o170000) === S_IFREG, isDirectory: (mode & 0o170000) === 0o040000, isSymbolicLink: file.symlink === true, dev: 42, ino: file.ino ?? ino };
}

/** An in-memory directory; every call is a spy so the specs see what was read. */
function fakeReader(files: Record<string, FakeFile>): ImageReader & { lstat: sinon.SinonSpy; readBytes: sinon.SinonSpy } {
  const inode = (name: string): number => Object.keys(files).indexOf(name) + 1;
  const lookup = (path: string): FakeFile => {
    const name = path.startsWith(`${DIR}/`) ? path.slice(DIR.length + 1) : `!${path}`;
    const file = files[name];
    if (file === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return file;
  };
  return {
    lstat: sinon.spy((path: string) => {
      const name = path.slice(DIR.length + 1);
      return Promise.resolve(stat(lookup(path), inode(name)));
    }),
    readBytes: sinon.spy((path: string, position: number, length: number) => {
      const file = lookup(path);
      return Promise.resolve((file.bytes ?? new Uint8Array()).slice(position, position + length));
    }),
  };
}

const image = (fixture: Qcow2Fixture = {}): FakeFile => ({ bytes: qcow2(fixture) });
const over = (backing: string, format = 'qcow2', fixture: Qcow2Fixture = {}): FakeFile => image({ ...fixture, backing, extensions: [[BACKING_FORMAT, format]] });

async function refusal(files: Record<string, FakeFile>, format: 'raw' | 'qcow2' = 'qcow2', options = {}): Promise<UnsafeImageError> {
  const error: unknown = await checkImage(fakeReader(files), TOP, format, options).then(
    () => { throw new Error('expected a refusal'); },
    (caught: unknown) => caught,
  );
  expect(error).to.be.instanceOf(UnsafeImageError);
  const unsafe = error as UnsafeImageError;
  expect(unsafe.code).to.equal('ERR_UNSAFE_IMAGE');
  expect(unsafe.mountPath).to.equal(DIR);
  return unsafe;
}

describe('checkImage()', () => {
  describe('raw', () => {
    it('accepts a regular file and never reads it, even when it holds a hostile qcow2 header', async () => {
      const reader = fakeReader({ 'volume-1': over('/etc/passwd', 'raw') });
      expect(await checkImage(reader, TOP, 'raw')).to.deep.equal({ backingChain: [], exists: true });
      expect(reader.readBytes.called).to.be.false;
    });

    it('allows a missing image (libvirt reports it when it opens it)', async () => {
      expect(await checkImage(fakeReader({}), TOP, 'raw')).to.deep.equal({ backingChain: [], exists: false });
    });
  });

  for (const format of ['raw', 'qcow2'] as const) {
    const kinds: Array<[string, FakeFile, RegExp]> = [
      ['a symbolic link', { symlink: true }, /is a symbolic link/],
      ['a FIFO', { mode: 0o010644 }, /not a regular file \(FIFO\)/],
      ['a directory', { mode: 0o040755 }, /not a regular file \(directory\)/],
      ['a character device', { mode: 0o020600 }, /not a regular file \(character device\)/],
      ['a block device', { mode: 0o060600 }, /not a regular file \(block device\)/],
      ['a socket', { mode: 0o140755 }, /not a regular file \(socket\)/],
    ];
    for (const [what, file, why] of kinds) {
      it(`refuses ${what} as a ${format} image, without reading it`, async () => {
        const reader = fakeReader({ 'volume-1': file });
        await expect(checkImage(reader, TOP, format)).to.be.rejectedWith(UnsafeImageError, why);
        expect(reader.readBytes.called).to.be.false;
      });
    }
  }

  describe('qcow2', () => {
    it('accepts a plain image, reading at most 64 KiB of it from the start', async () => {
      const reader = fakeReader({ 'volume-1': image({ virtualSize: 5n << 30n }) });
      expect(await checkImage(reader, TOP, 'qcow2')).to.deep.equal({ backingChain: [], virtualSize: 5 * 2 ** 30, exists: true });
      expect(reader.readBytes.args).to.deep.equal([[TOP, 0, 65536]]);
    });

    it('accepts a sibling snapshot chain and returns it top first', async () => {
      const files = { 'volume-1': over('volume-1.snap2'), 'volume-1.snap2': over('volume-1.snap1'), 'volume-1.snap1': over('volume-1.base', 'raw'), 'volume-1.base': { bytes: qcow2({ backing: '/etc/passwd' }) } };
      const reader = fakeReader(files);
      expect((await checkImage(reader, TOP, 'qcow2')).backingChain).to.deep.equal([
        { name: 'volume-1.snap2', format: 'qcow2' },
        { name: 'volume-1.snap1', format: 'qcow2' },
        { name: 'volume-1.base', format: 'raw' },
      ]);
      // The raw base is never read: what a guest wrote there is data, not a header.
      expect(reader.readBytes.args.map((args) => (args as unknown[])[0])).to.not.include(`${DIR}/volume-1.base`);
    });

    it('accepts a version 2 overlay with a backing format extension', async () => {
      const result = await checkImage(fakeReader({ 'volume-1': over('base', 'qcow2', { version: 2 }), base: image({ version: 2 }) }), TOP, 'qcow2');
      expect(result.backingChain).to.deep.equal([{ name: 'base', format: 'qcow2' }]);
    });

    it('accepts an unusual but plain sibling name (spaces, unicode, dots)', async () => {
      const name = ' volume é .snap.';
      expect((await checkImage(fakeReader({ 'volume-1': over(name), [name]: image() }), TOP, 'qcow2')).backingChain).to.have.length(1);
    });

    it('refuses a missing image: what appears there later was never inspected', async () => {
      expect((await refusal({})).imagePath).to.equal(TOP);
    });

    const hostileNames = ['/etc/passwd', '../../x', '..', '.', 'other/volume-2', `${DIR}/base`, 'json:{"file":{"filename":"/etc/passwd"}}', 'nbd://host/x', 'file:base', 'a\\b', 'base\n', 'base\u0000/etc/passwd', 'base\u0085', 'base\u007f'];
    for (const name of hostileNames) {
      it(`refuses the backing file ${JSON.stringify(name)}`, async () => {
        const error = await refusal({ 'volume-1': over(name), [name]: image(), base: image() });
        expect(error.message).to.match(/only a plain file name in the same directory/);
        expect(error.imagePath).to.equal(TOP);
      });
    }

    it('refuses a backing name that is not UTF-8', async () => {
      await expect(checkImage(fakeReader({ 'volume-1': image({ backing: new Uint8Array([0x62, 0xff, 0x61]), extensions: [[BACKING_FORMAT, 'raw']] }) }), TOP, 'qcow2')).to.be.rejectedWith(UnsafeImageError, /not valid UTF-8/);
    });

    it('quotes at most 200 characters of a hostile backing name', async () => {
      const error = await refusal({ 'volume-1': over(`/${'x'.repeat(1000)}`) });
      expect(error.message.length).to.be.below(500);
      expect(error.message).to.include('(801 more characters)');
    });

    it('refuses a backing file without a format (it would be probed)', async () => {
      await expect(checkImage(fakeReader({ 'volume-1': image({ backing: 'base' }), base: image() }), TOP, 'qcow2')).to.be.rejectedWith(UnsafeImageError, /without its format/);
    });

    for (const format of ['vmdk', 'qcow', 'luks', 'host_device', 'qcow2\u0000', 'RAW']) {
      it(`refuses the backing format ${JSON.stringify(format)}`, async () => {
        expect((await refusal({ 'volume-1': over('base', format), base: image() })).message).to.match(/only raw and qcow2/);
      });
    }

    it('refuses an external data file (incompatible bit 2)', async () => {
      expect((await refusal({ 'volume-1': image({ incompatible: 4n }) })).message).to.match(/external data file \(incompatible feature bit 2\)/);
    });

    it('refuses a data file header extension even without the bit', async () => {
      expect((await refusal({ 'volume-1': image({ extensions: [[DATA_FILE, '/etc/shadow']] }) })).message).to.match(/0x44415441/);
    });

    it('refuses the raw external data autoclear bit', async () => {
      expect((await refusal({ 'volume-1': image({ autoclear: 2n }) })).message).to.match(/autoclear bit 1/);
    });

    it('refuses unknown incompatible bits, version 1 and version 4', async () => {
      expect((await refusal({ 'volume-1': image({ incompatible: 1n << 5n }) })).message).to.match(/unknown incompatible/);
      expect((await refusal({ 'volume-1': image({ version: 1 }) })).message).to.match(/version 1/);
      expect((await refusal({ 'volume-1': image({ version: 4 }) })).message).to.match(/version 4/);
    });

    it('refuses legacy AES encryption, and LUKS unless the volume is encrypted', async () => {
      expect((await refusal({ 'volume-1': image({ cryptMethod: 1 }) }, 'qcow2', { encrypted: true })).message).to.match(/crypt method 1/);
      expect((await refusal({ 'volume-1': image({ cryptMethod: 2 }) })).message).to.match(/not marked encrypted/);
      expect(await checkImage(fakeReader({ 'volume-1': image({ cryptMethod: 2 }) }), TOP, 'qcow2', { encrypted: true })).to.include({ exists: true });
    });

    it('refuses an image that names itself, and a loop further down', async () => {
      expect((await refusal({ 'volume-1': over('volume-1') })).message).to.match(/already in the chain \(a loop\)/);
      const error = await refusal({ 'volume-1': over('a'), a: over('b'), b: over('a') });
      expect(error.imagePath).to.equal(`${DIR}/b`);
    });

    it('refuses a chain deeper than maxChainLength (16 by default) and accepts one of exactly 16', async () => {
      const chain = (length: number): Record<string, FakeFile> => {
        const files: Record<string, FakeFile> = { 'volume-1': over('s1') };
        for (let index = 1; index <= length; index += 1) files[`s${index}`] = index === length ? image() : over(`s${index + 1}`);
        return files;
      };
      expect((await checkImage(fakeReader(chain(16)), TOP, 'qcow2')).backingChain).to.have.length(16);
      expect((await refusal(chain(17))).message).to.match(/longer than 16 images/);
      expect((await refusal(chain(3), 'qcow2', { maxChainLength: 2 })).message).to.match(/longer than 2 images/);
    });

    it('refuses a sibling whose own backing file is hostile, naming that sibling', async () => {
      const error = await refusal({ 'volume-1': over('snap'), snap: over('../../etc/passwd', 'raw') });
      expect(error.imagePath).to.equal(`${DIR}/snap`);
      expect(error.message).to.match(/snap in its backing chain names the backing file/);
    });

    it('refuses a sibling that is missing, a link or a FIFO', async () => {
      expect((await refusal({ 'volume-1': over('base') })).message).to.match(/base in its backing chain does not exist/);
      expect((await refusal({ 'volume-1': over('base', 'raw'), base: { symlink: true } })).message).to.match(/symbolic link/);
      expect((await refusal({ 'volume-1': over('base', 'raw'), base: { mode: 0o010600 } })).message).to.match(/FIFO/);
    });

    it('refuses an image swapped for another file while it was read', async () => {
      const reader = fakeReader({ 'volume-1': image() });
      const first: PathStat = await reader.lstat(TOP);
      reader.lstat = sinon.stub().onFirstCall().resolves(first).onSecondCall().resolves({ ...first, ino: 999 });
      await expect(checkImage(reader, TOP, 'qcow2')).to.be.rejectedWith(UnsafeImageError, /replaced while it was inspected/);
    });

    it('refuses an image a reader opening with O_NOFOLLOW finds to be a link (ELOOP)', async () => {
      const reader = fakeReader({ 'volume-1': image() });
      reader.readBytes = sinon.stub().rejects(Object.assign(new Error('ELOOP'), { code: 'ELOOP' }));
      await expect(checkImage(reader, TOP, 'qcow2')).to.be.rejectedWith(UnsafeImageError, /symbolic link/);
    });

    it('reports an image it could not look at (a hung mount) as ERR_INVALID_VOLUME with the cause', async () => {
      const timeout = Object.assign(new Error('ETIMEDOUT: no answer'), { code: 'ETIMEDOUT' });
      for (const broken of ['lstat', 'readBytes'] as const) {
        const reader = fakeReader({ 'volume-1': image() });
        reader[broken] = sinon.stub().rejects(timeout);
        const error: unknown = await checkImage(reader, TOP, 'qcow2').catch((caught: unknown) => caught);
        expect(error).to.be.instanceOf(InvalidVolumeError).and.not.instanceOf(UnsafeImageError);
        expect((error as InvalidVolumeError).code).to.equal('ERR_INVALID_VOLUME');
        expect((error as Error).cause).to.equal(timeout);
      }
    });
  });
});
