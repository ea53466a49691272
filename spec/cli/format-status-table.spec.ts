import { expect } from 'chai';
import { formatStatusTable } from '../../lib/cli/format-status-table.js';
import type { VolumeStatus } from '../../lib/cli/list-volume-status.js';

describe('formatStatusTable()', () => {
  const healthy: VolumeStatus = { mountPath: '/m/aa', export: 'reg/vol', fsType: 'fuse.quobyte', health: 'healthy', attachments: ['i1/v1', 'i2/v1'] };
  const stale: VolumeStatus = { mountPath: '/m/bbbbbb', export: 'registry:7861/v', fsType: 'fuse.quobyte', health: 'stale', reason: 'nonzero-size', attachments: [] };

  it('aligns the columns under their headers, two spaces apart, without trailing blanks', () => {
    expect(formatStatusTable([healthy, stale])).to.equal(
      [
        'MOUNT PATH  EXPORT           HEALTH                ATTACHMENTS',
        '/m/aa       reg/vol          healthy               i1/v1,i2/v1',
        '/m/bbbbbb   registry:7861/v  stale (nonzero-size)  -',
        '',
      ].join('\n'),
    );
  });

  it('prints only the headers for no rows', () => {
    expect(formatStatusTable([])).to.equal('MOUNT PATH  EXPORT  HEALTH  ATTACHMENTS\n');
  });

  it('shows unresponsive without repeating the reason, and a missing export as -', () => {
    const rows: VolumeStatus[] = [
      { mountPath: '/m/a', export: 'r/v', fsType: 'fuse.quobyte', health: 'unresponsive', reason: 'unresponsive', attachments: [] },
      { mountPath: '/m/b', export: null, fsType: null, health: 'absent', attachments: ['i/v'] },
    ];
    expect(formatStatusTable(rows)).to.equal(
      ['MOUNT PATH  EXPORT  HEALTH        ATTACHMENTS', '/m/a        r/v     unresponsive  -', '/m/b        -       absent        i/v', ''].join('\n'),
    );
  });

  it('writes control characters as octal escapes, so a row stays one line', () => {
    const rows: VolumeStatus[] = [{ mountPath: '/m/a\nb', export: 'x\ty', fsType: 'tmpfs', health: 'foreign', attachments: [] }];
    expect(formatStatusTable(rows).split('\n')[1]).to.equal(String.raw`/m/a\012b   x\011y  foreign  -`);
  });
});
