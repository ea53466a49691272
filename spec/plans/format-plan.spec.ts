import { expect } from 'chai';
import { formatCommand, formatPlan } from '../../lib/plans/format-plan.js';

describe('format-plan', () => {
  describe('formatCommand()', () => {
    it('prints plain words as they are', () => {
      expect(formatCommand({ file: 'mount.quobyte', args: ['--disable-xattrs', 'reg:7861,reg2/vol', '/var/lib/nova/mnt/abc'] })).to.equal(
        'mount.quobyte --disable-xattrs reg:7861,reg2/vol /var/lib/nova/mnt/abc',
      );
    });

    it('quotes words a shell would split or expand, so the line can be pasted', () => {
      expect(formatCommand({ file: 'umount', args: ['/mnt/my dir', "it's", '$HOME', ''] })).to.equal(String.raw`umount '/mnt/my dir' 'it'\''s' '$HOME' ''`);
    });
  });

  describe('formatPlan()', () => {
    it('prints one line per step', () => {
      expect(
        formatPlan([
          { kind: 'create-directory', path: '/m/a' },
          { kind: 'create-directory', path: '/m/b', existing: true },
          { kind: 'run', purpose: 'lazy-unmount', command: { file: 'umount', args: ['-l', '--no-canonicalize', '/m/a'] } },
          { kind: 'remove-directory', path: '/m/a' },
          { kind: 'record-attachment', id: 'i/v', mountPath: '/m/a' },
          { kind: 'remove-attachment', id: 'i/v', mountPath: '/m/a' },
          { kind: 'nothing-to-do', why: 'because' },
          { kind: 'look-again', why: '2 mounts of ours are stacked at /m/a; the one below is judged next' },
        ]),
      ).to.equal(
        [
          'would create directory: /m/a',
          'would check directory (no link, ours): /m/b',
          'would run: umount -l --no-canonicalize /m/a',
          'would remove directory: /m/a',
          'would record attachment: i/v on /m/a',
          'would remove attachment: i/v from /m/a',
          'nothing to run: because',
          'would look again: 2 mounts of ours are stacked at /m/a; the one below is judged next',
          '',
        ].join('\n'),
      );
    });

    it('prints nothing for no steps', () => {
      expect(formatPlan([])).to.equal('');
    });
  });
});
