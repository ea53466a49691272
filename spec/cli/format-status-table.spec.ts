import { expect } from 'chai';
import { formatStatusTable } from '../../lib/cli/format-status-table.js';
import type { VolumeStatus } from '../../lib/cli/list-volume-status.js';

describe('formatStatusTable()', () => {
  const healthy: VolumeStatus = { mountPath: '/m/aa', export: 'reg/vol', fsType: 'fuse.quobyte', health: 'healthy', attachments: ['i1/v1', 'i2/v1'], problems: [] };
  const stale: VolumeStatus = { mountPath: '/m/bbbbbb', export: 'registry:7861/v', fsType: 'fuse.quobyte', health: 'stale', reason: 'nonzero-size', attachments: ['i/v'], problems: ['stale'] };

  it('aligns the columns under their headers, two spaces apart, without trailing blanks', () => {
    expect(formatStatusTable([healthy, stale])).to.equal(
      [
        'MOUNT PATH  EXPORT           HEALTH                ATTACHMENTS',
        '/m/aa       reg/vol          healthy               i1/v1,i2/v1',
        '/m/bbbbbb   registry:7861/v  stale (nonzero-size)  i/v',
        '',
      ].join('\n'),
    );
  });

  it('prints only the headers for no rows', () => {
    expect(formatStatusTable([])).to.equal('MOUNT PATH  EXPORT  HEALTH  ATTACHMENTS\n');
  });

  it('shows unresponsive without repeating the reason, orphaned after the health, and a missing export as -', () => {
    const rows: VolumeStatus[] = [
      { mountPath: '/m/a', export: 'r/v', fsType: 'fuse.quobyte', health: 'unresponsive', reason: 'unresponsive', attachments: [], problems: ['unresponsive', 'orphaned'] },
      { mountPath: '/m/b', export: null, fsType: null, health: 'absent', attachments: ['i/v'], problems: ['not-mounted'] },
    ];
    expect(formatStatusTable(rows)).to.equal(
      ['MOUNT PATH  EXPORT  HEALTH                  ATTACHMENTS', '/m/a        r/v     unresponsive, orphaned  -', '/m/b        -       absent                  i/v', ''].join('\n'),
    );
  });

  it('writes control characters as octal escapes, so a row stays one line', () => {
    const rows: VolumeStatus[] = [{ mountPath: '/m/a\nb', export: 'x\ty', fsType: 'tmpfs', health: 'foreign', attachments: [], problems: ['foreign'] }];
    expect(formatStatusTable(rows).split('\n')[1]).to.equal(String.raw`/m/a\012b   x\011y  foreign  -`);
  });

  it('escapes bidi controls, line separators and C1 controls, so what is shown is what is there', () => {
    const rows: VolumeStatus[] = [
      { mountPath: '/m/\u202egpj.exe', export: 'r\u2066/v\u2069', fsType: 'tmpfs', health: 'foreign', attachments: ['i\u2028x/\u200fv', 'j\u0085/v\u009b'], problems: ['foreign'] },
    ];
    const line = formatStatusTable(rows).split('\n')[1] ?? '';
    expect(line).to.equal(String.raw`/m/\u202egpj.exe  r\u2066/v\u2069  foreign  i\u2028x/\u200fv,j\u0085/v\u009b`);
    // eslint-disable-next-line no-control-regex -- what must not be left
    expect(formatStatusTable(rows)).not.to.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
  });
});
