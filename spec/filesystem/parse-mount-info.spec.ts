import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseMountInfo } from '../../lib/filesystem/parse-mount-info.js';

/** The Quobyte mount that Nova's own tests use (export `192.168.1.1/volume-00001`). */
const QUOBYTE_LINE =
  '1025 29 0:52 / /var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6 rw,nosuid,nodev,relatime shared:300 - fuse.quobyte quobyte@192.168.1.1/volume-00001 rw,user_id=0,group_id=0';

describe('parseMountInfo()', () => {
  describe('a single line', () => {
    it('reads a line without optional fields', () => {
      const [entry, ...rest] = parseMountInfo('22 27 0:21 / /proc rw,relatime - proc proc rw\n');
      expect(rest).to.have.length(0);
      expect(entry).to.deep.equal({
        mountPoint: '/proc',
        source: 'proc',
        fsType: 'proc',
        options: ['rw', 'relatime', 'rw'],
        mountId: 22,
        device: '0:21',
      });
    });

    it('reads a line with one optional field', () => {
      expect(parseMountInfo('27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard')).to.deep.equal([
        { mountPoint: '/', source: '/dev/vda', fsType: 'ext4', options: ['rw', 'relatime', 'rw', 'discard'], mountId: 27, device: '254:0' },
      ]);
    });

    it('reads a line with several optional fields (shared:1 master:2)', () => {
      // proc(5)'s example line, with one more optional field.
      const [entry] = parseMountInfo('36 35 98:0 /mnt1 /mnt2 rw,noatime shared:1 master:2 propagate_from:3 - ext3 /dev/root rw,errors=continue');
      expect(entry).to.deep.equal({
        mountPoint: '/mnt2',
        source: '/dev/root',
        fsType: 'ext3',
        options: ['rw', 'noatime', 'rw', 'errors=continue'],
        mountId: 36,
        device: '98:0',
      });
    });

    it('reads the fuse.quobyte line of a Nova mount, type with subtype and source quobyte@...', () => {
      expect(parseMountInfo(QUOBYTE_LINE)).to.deep.equal([
        {
          mountPoint: '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6',
          source: 'quobyte@192.168.1.1/volume-00001',
          fsType: 'fuse.quobyte',
          options: ['rw', 'nosuid', 'nodev', 'relatime', 'rw', 'user_id=0', 'group_id=0'],
          mountId: 1025,
          device: '0:52',
        },
      ]);
    });

    it('reads the mount point, not the root within the file system (bind mounts)', () => {
      const [entry] = parseMountInfo('40 27 254:0 /srv/data /mnt/bind rw,relatime - ext4 /dev/vda rw');
      expect(entry?.mountPoint).to.equal('/mnt/bind');
      expect(entry?.source).to.equal('/dev/vda');
    });

    it('takes the fields after the first lone "-", not a "-" inside an option or source', () => {
      const [entry] = parseMountInfo('41 27 0:60 / /mnt/x rw,x-gvfs-show - fuse.sshfs user@host:/a-b rw,user_id=0');
      expect(entry).to.include({ mountPoint: '/mnt/x', fsType: 'fuse.sshfs', source: 'user@host:/a-b' });
      expect(entry?.options).to.deep.equal(['rw', 'x-gvfs-show', 'rw', 'user_id=0']);
    });

    it('reads a mount point named "-"', () => {
      const [entry] = parseMountInfo('42 27 0:61 / /- rw - tmpfs tmpfs rw');
      expect(entry).to.include({ mountPoint: '/-', fsType: 'tmpfs', source: 'tmpfs' });
    });

    it('reads a line without super options', () => {
      const [entry] = parseMountInfo('43 27 0:62 / /mnt/bare rw - tmpfs none');
      expect(entry).to.include({ mountPoint: '/mnt/bare', source: 'none', fsType: 'tmpfs' });
      expect(entry?.options).to.deep.equal(['rw']);
    });

    it('reads a large mount id and device numbers', () => {
      const [entry] = parseMountInfo('4294967 27 259:1048575 / /mnt/big rw - xfs /dev/nvme0n1p1 rw');
      expect(entry?.mountId).to.equal(4294967);
      expect(entry?.device).to.equal('259:1048575');
    });
  });

  describe('octal escapes', () => {
    it('decodes \\040 (space) in the mount point', () => {
      const [entry] = parseMountInfo('50 27 0:70 / /mnt/volume\\040with\\040space rw - tmpfs tmpfs rw');
      expect(entry?.mountPoint).to.equal('/mnt/volume with space');
    });

    it('decodes \\011 (tab), \\012 (newline) and \\134 (backslash) in the mount point', () => {
      const [entry] = parseMountInfo('51 27 0:71 / /mnt/a\\011b\\012c\\134d rw - tmpfs tmpfs rw');
      expect(entry?.mountPoint).to.equal('/mnt/a\tb\nc\\d');
    });

    it('decodes escapes in the source', () => {
      const [entry] = parseMountInfo('52 27 0:72 / /mnt/s rw - fuse.quobyte quobyte@reg\\040one/vol\\134x rw');
      expect(entry?.source).to.equal('quobyte@reg one/vol\\x');
    });

    it('decodes an escaped backslash once, not again with the digits after it', () => {
      // The kernel writes a literal `\040` in a name as `\134040`.
      const [entry] = parseMountInfo('53 27 0:73 / /mnt/a\\134040b rw - tmpfs tmpfs rw');
      expect(entry?.mountPoint).to.equal('/mnt/a\\040b');
    });

    it('decodes escapes at the start and the end of a field', () => {
      const [entry] = parseMountInfo('54 27 0:74 / \\040/mnt\\040 rw - tmpfs tmpfs rw');
      expect(entry?.mountPoint).to.equal(' /mnt ');
    });

    it('keeps a backslash that is not followed by three octal digits', () => {
      const [entry] = parseMountInfo('55 27 0:75 / /mnt/a\\9b\\04 rw - tmpfs tmpfs rw');
      expect(entry?.mountPoint).to.equal('/mnt/a\\9b\\04');
    });

    it('keeps a mount point with an escaped " - " whole', () => {
      const [entry] = parseMountInfo('56 27 0:76 / /mnt/a\\040-\\040b rw shared:9 - tmpfs tmpfs rw');
      expect(entry).to.include({ mountPoint: '/mnt/a - b', fsType: 'tmpfs', source: 'tmpfs' });
    });
  });

  describe('several lines', () => {
    const TABLE = [
      '22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
      '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
      QUOBYTE_LINE,
      '1026 1025 0:53 / /var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6 rw,relatime shared:301 - tmpfs tmpfs rw',
      '',
    ].join('\n');

    it('returns one entry per line, in the kernel order, over-mounts included', () => {
      const entries = parseMountInfo(TABLE);
      expect(entries.map((e) => [e.mountId, e.mountPoint, e.fsType])).to.deep.equal([
        [22, '/proc', 'proc'],
        [27, '/', 'ext4'],
        [1025, '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6', 'fuse.quobyte'],
        [1026, '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6', 'tmpfs'],
      ]);
    });

    it('reads a table without a final newline', () => {
      expect(parseMountInfo(TABLE.trimEnd())).to.have.length(4);
    });

    it('skips blank lines between entries', () => {
      expect(parseMountInfo(`\n${QUOBYTE_LINE}\n\n${QUOBYTE_LINE}\n\n`)).to.have.length(2);
    });
  });

  describe('malformed input', () => {
    it('returns nothing for empty input', () => {
      expect(parseMountInfo('')).to.deep.equal([]);
    });

    it('returns nothing for only newlines', () => {
      expect(parseMountInfo('\n\n\n')).to.deep.equal([]);
    });

    for (const [what, line] of [
      ['a word', 'garbage'],
      ['a line without the " - " separator', '36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw'],
      ['a line without the source after the separator', '36 35 98:0 /mnt1 /mnt2 rw,noatime -'],
      ['a line with a type but no source', '36 35 98:0 /mnt1 /mnt2 rw,noatime - ext3'],
      ['a line with a separator before the options', '36 35 98:0 / - ext3 /dev/root rw'],
      ['a line cut after the mount point', '36 35 98:0 / /mnt2'],
    ] as const) {
      it(`skips ${what}`, () => {
        expect(parseMountInfo(line)).to.deep.equal([]);
      });
    }

    it('skips malformed lines and keeps the good ones around them', () => {
      const entries = parseMountInfo(['garbage', QUOBYTE_LINE, '1 2 3', '22 27 0:21 / /proc rw - proc proc rw'].join('\n'));
      expect(entries.map((e) => e.mountPoint)).to.deep.equal(['/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6', '/proc']);
    });

    // Regression: such a line used to be kept, with `mountId: NaN`.
    it('skips a line whose mount id is not a number', () => {
      expect(parseMountInfo('abc 27 0:21 / /proc rw - proc proc rw')).to.deep.equal([]);
    });
  });

  describe('the mount table of this machine', () => {
    it('parses /proc/self/mountinfo into entries that include /', () => {
      const entries = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
      expect(entries.length).to.be.greaterThan(0);
      const root = entries.filter((e) => e.mountPoint === '/');
      expect(root).to.have.length.greaterThanOrEqual(1);
      for (const entry of entries) {
        expect(entry.mountPoint.startsWith('/'), entry.mountPoint).to.equal(true);
        expect(entry.fsType).to.be.a('string').and.not.equal('');
        expect(entry.mountId).to.be.a('number');
        expect(Number.isInteger(entry.mountId)).to.equal(true);
        expect(entry.device).to.match(/^\d+:\d+$/);
      }
    });

    it('has as many entries as the file has lines', () => {
      const text = readFileSync('/proc/self/mountinfo', 'utf8');
      expect(parseMountInfo(text)).to.have.length(text.split('\n').filter((line) => line !== '').length);
    });
  });
});
