import { expect } from 'chai';
import { appearedMounts, findMisplacedMounts } from '../../lib/filesystem/find-misplaced-mounts.js';
import type { MountEntry } from '../../lib/filesystem/file-system-probe.js';

describe('findMisplacedMounts()', () => {
  const EXPECTED = '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6';
  const ours = (mountPoint: string, mountId?: number): MountEntry => ({ mountPoint, source: 'quobyte@reg/v', fsType: 'fuse.quobyte', options: [], ...(mountId === undefined ? {} : { mountId }) });
  const expected = { mountPoint: EXPECTED, matches: (entry: MountEntry) => entry.fsType === 'fuse.quobyte' && entry.source === 'quobyte@reg/v' };
  const root: MountEntry = { mountPoint: '/', source: '/dev/sda1', fsType: 'ext4', options: [], mountId: 1 };

  it('finds a new mount of ours that landed elsewhere (a link followed)', () => {
    expect(findMisplacedMounts([root], [root, ours('/etc', 50)], expected)).to.deep.equal([ours('/etc', 50)]);
  });

  it('is empty when the mount is where it should be', () => {
    expect(findMisplacedMounts([root], [root, ours(EXPECTED, 50)], expected)).to.deep.equal([]);
  });

  it('ignores mounts that were there before, and new mounts that are not ours', () => {
    const other = { ...ours('/srv/other', 40) };
    const tmpfs: MountEntry = { mountPoint: '/run/x', source: 'tmpfs', fsType: 'tmpfs', options: [], mountId: 51 };
    expect(findMisplacedMounts([root, other], [root, other, tmpfs], expected)).to.deep.equal([]);
  });

  it('tells mounts apart by place, source and type when there are no mount ids', () => {
    expect(findMisplacedMounts([ours('/a')], [ours('/a'), ours('/b')], expected)).to.deep.equal([ours('/b')]);
  });
});

describe('appearedMounts()', () => {
  const entry = (mountPoint: string, mountId: number): MountEntry => ({ mountPoint, source: 's', fsType: 't', options: [], mountId });

  it('lists mounts of the second table the first lacked, by mount id', () => {
    expect(appearedMounts([entry('/a', 1)], [entry('/a', 1), entry('/a', 2), entry('/b', 3)])).to.deep.equal([entry('/a', 2), entry('/b', 3)]);
  });
});

describe('appearedMounts() on a busy host', () => {
  it('tells a new mount from an unmounted one whose id the kernel gave it again', () => {
    const gone: MountEntry = { mountPoint: '/run/other-session', source: 'tmpfs', fsType: 'tmpfs', options: [], mountId: 77 };
    const ours: MountEntry = { mountPoint: '/elsewhere', source: 'quobyte@reg/v', fsType: 'fuse.quobyte', options: [], mountId: 77 };
    expect(appearedMounts([gone], [ours])).to.deep.equal([ours]);
  });
});
