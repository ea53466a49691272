import { expect } from 'chai';
import { InvalidConnectionInfoError } from '../../lib/errors.js';
import { checkQuobyteExport, isQuobyteMount, MAX_EXPORT_LENGTH, mountDirectoryName, normalizeQuobyteExport, quobyteMountCommand } from '../../lib/drivers/quobyte-export.js';

describe('quobyte-export', () => {
  describe('normalizeQuobyteExport()', () => {
    it('strips one quobyte:// and keeps anything else', () => {
      expect(normalizeQuobyteExport('quobyte://quobyte://reg/v')).to.equal('quobyte://reg/v');
      expect(normalizeQuobyteExport('QUOBYTE://reg/v')).to.equal('QUOBYTE://reg/v');
    });
  });

  describe('checkQuobyteExport()', () => {
    for (const good of ['reg/v', 'reg:7861,[::1]:7866/vol-1', '192.168.1.1/volume-00001']) {
      it(`accepts ${good}`, () => {
        expect(() => { checkQuobyteExport(good); }).not.to.throw();
      });
    }
    for (const bad of ['-o/x', '/etc', '/etc/passwd', 'reg/a/b', 'reg/..', 'reg/v w', 'reg:0/v', 'reg:65536/v', `reg/v\uD800`, `reg/\uDC00v`, 'quobyte://reg/v']) {
      it(`refuses ${JSON.stringify(bad)} with field data.export`, () => {
        expect(() => { checkQuobyteExport(bad); }).to.throw(InvalidConnectionInfoError).with.property('field', 'data.export');
      });
    }
    it('refuses an export longer than a page, and quotes at most 200 characters of hostile input', () => {
      expect(() => { checkQuobyteExport(`reg/${'v'.repeat(MAX_EXPORT_LENGTH)}`); }).to.throw(InvalidConnectionInfoError, /longer than 4096/);
      const error = (() => {
        try {
          checkQuobyteExport(`-${'x'.repeat(1_000_000)}`);
        } catch (caught) {
          return caught as Error;
        }
        return undefined;
      })();
      expect(error?.message.length).to.be.below(400);
    });
  });

  describe('mountDirectoryName()', () => {
    it('is the md5 hex Nova uses', () => {
      expect(mountDirectoryName('192.168.1.1/volume-00001')).to.equal('c94ed34ada0acf45c1213beb1fc52ce6');
    });
  });

  describe('quobyteMountCommand()', () => {
    it('builds Nova\'s argv, with -c only when given', () => {
      expect(quobyteMountCommand('reg/v', '/b/m')).to.deep.equal({ file: 'mount.quobyte', args: ['--disable-xattrs', 'reg/v', '/b/m'] });
      expect(quobyteMountCommand('reg/v', '/b/m', '/etc/q.cfg').args).to.deep.equal(['--disable-xattrs', 'reg/v', '/b/m', '-c', '/etc/q.cfg']);
    });
  });

  describe('isQuobyteMount()', () => {
    const entry = (fsType: string, source: string) => ({ mountPoint: '/m', fsType, source, options: [] });
    it('counts fuse.quobyte, and plain fuse from quobyte@', () => {
      expect(isQuobyteMount(entry('fuse.quobyte', 'anything'))).to.be.true;
      expect(isQuobyteMount(entry('fuse', 'quobyte@reg/v'))).to.be.true;
    });
    it('does not count another FUSE file system or NFS whose source starts quobyte@', () => {
      expect(isQuobyteMount(entry('fuse.sshfs', 'quobyte@host:/home'))).to.be.false;
      expect(isQuobyteMount(entry('nfs4', 'quobyte@reg/v'))).to.be.false;
      expect(isQuobyteMount(entry('fuse', 'user@host:/x'))).to.be.false;
    });
  });
});
