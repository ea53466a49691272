import { expect } from 'chai';
import { MemoryAttachmentStore } from '../../lib/attachments/memory-attachment-store.js';

const MNT_A = '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6';
const MNT_B = '/var/lib/nova/mnt/260de2c005587c2c7495904caf626eec';
const GUEST_1_VOL_1 = 'c0ffee00-0000-4000-8000-000000000001/3f1b2d3c-1111-2222-3333-444455556666';
const GUEST_2_VOL_1 = 'c0ffee00-0000-4000-8000-000000000002/3f1b2d3c-1111-2222-3333-444455556666';
const GUEST_1_VOL_2 = 'c0ffee00-0000-4000-8000-000000000001/9a8b7c6d-aaaa-bbbb-cccc-ddddeeeeffff';

function plain(table: ReadonlyMap<string, readonly string[]>): Record<string, string[]> {
  return Object.fromEntries([...table].map(([path, ids]) => [path, [...ids].sort()]));
}

describe('MemoryAttachmentStore', () => {
  let store: MemoryAttachmentStore;

  beforeEach(() => {
    store = new MemoryAttachmentStore();
  });

  describe('a new store', () => {
    it('is empty', async () => {
      expect((await store.entries()).size).to.equal(0);
      expect(await store.list(MNT_A)).to.deep.equal([]);
    });
  });

  describe('add()', () => {
    it('resolves to the count on that mount point after adding', async () => {
      expect(await store.add(MNT_A, GUEST_1_VOL_1)).to.equal(1);
      expect(await store.add(MNT_A, GUEST_2_VOL_1)).to.equal(2);
      expect(await store.add(MNT_A, GUEST_1_VOL_2)).to.equal(3);
    });

    it('counts each mount point on its own', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      await store.add(MNT_A, GUEST_2_VOL_1);
      expect(await store.add(MNT_B, GUEST_1_VOL_2)).to.equal(1);
    });

    it('is idempotent: adding an id already there changes nothing', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      expect(await store.add(MNT_A, GUEST_1_VOL_1)).to.equal(1);
      expect(await store.list(MNT_A)).to.deep.equal([GUEST_1_VOL_1]);
    });

    it('keeps one id on two mount points apart', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      await store.add(MNT_B, GUEST_1_VOL_1);
      expect(await store.remove(MNT_A, GUEST_1_VOL_1)).to.equal(0);
      expect(await store.list(MNT_B)).to.deep.equal([GUEST_1_VOL_1]);
    });
  });

  describe('remove()', () => {
    it('resolves to the count left on that mount point', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      await store.add(MNT_A, GUEST_2_VOL_1);
      expect(await store.remove(MNT_A, GUEST_1_VOL_1)).to.equal(1);
      expect(await store.list(MNT_A)).to.deep.equal([GUEST_2_VOL_1]);
      expect(await store.remove(MNT_A, GUEST_2_VOL_1)).to.equal(0);
    });

    it('is idempotent: removing an id not there changes nothing', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      expect(await store.remove(MNT_A, GUEST_2_VOL_1)).to.equal(1);
      expect(await store.remove(MNT_A, GUEST_1_VOL_1)).to.equal(0);
      expect(await store.remove(MNT_A, GUEST_1_VOL_1)).to.equal(0);
    });

    it('resolves to 0 for a mount point it never saw', async () => {
      expect(await store.remove(MNT_B, GUEST_1_VOL_1)).to.equal(0);
      expect((await store.entries()).size).to.equal(0);
    });

    it('drops a mount point whose last attachment goes', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      await store.add(MNT_B, GUEST_1_VOL_2);
      await store.remove(MNT_A, GUEST_1_VOL_1);
      expect([...(await store.entries()).keys()]).to.deep.equal([MNT_B]);
    });

    it('starts again from 1 after a mount point was emptied', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      await store.remove(MNT_A, GUEST_1_VOL_1);
      expect(await store.add(MNT_A, GUEST_2_VOL_1)).to.equal(1);
    });
  });

  describe('list()', () => {
    it('lists the ids on one mount point only', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      await store.add(MNT_A, GUEST_2_VOL_1);
      await store.add(MNT_B, GUEST_1_VOL_2);
      expect([...(await store.list(MNT_A))].sort()).to.deep.equal([GUEST_1_VOL_1, GUEST_2_VOL_1].sort());
      expect(await store.list(MNT_B)).to.deep.equal([GUEST_1_VOL_2]);
    });

    it('returns a copy the store does not share', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      const listed = (await store.list(MNT_A)) as string[];
      listed.push('intruder');
      expect(await store.list(MNT_A)).to.deep.equal([GUEST_1_VOL_1]);
    });

    it('treats mount paths as exact strings', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      expect(await store.list(`${MNT_A}/`)).to.deep.equal([]);
    });
  });

  describe('entries()', () => {
    it('holds every mount point with its ids', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      await store.add(MNT_A, GUEST_2_VOL_1);
      await store.add(MNT_B, GUEST_1_VOL_2);
      expect(plain(await store.entries())).to.deep.equal({
        [MNT_A]: [GUEST_1_VOL_1, GUEST_2_VOL_1].sort(),
        [MNT_B]: [GUEST_1_VOL_2],
      });
    });

    it('is a snapshot: later changes to the store do not show in it', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      const snapshot = await store.entries();
      await store.add(MNT_A, GUEST_2_VOL_1);
      await store.add(MNT_B, GUEST_1_VOL_2);
      expect(plain(snapshot)).to.deep.equal({ [MNT_A]: [GUEST_1_VOL_1] });
    });

    it('is a copy: changing it does not change the store', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      const snapshot = (await store.entries()) as Map<string, string[]>;
      snapshot.get(MNT_A)?.push('intruder');
      snapshot.set(MNT_B, ['intruder']);
      snapshot.delete(MNT_A);
      expect(plain(await store.entries())).to.deep.equal({ [MNT_A]: [GUEST_1_VOL_1] });
    });
  });

  describe('replaceAll()', () => {
    it('replaces everything the store held', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      await store.replaceAll(new Map([[MNT_B, [GUEST_1_VOL_2, GUEST_2_VOL_1]]]));
      expect(plain(await store.entries())).to.deep.equal({ [MNT_B]: [GUEST_1_VOL_2, GUEST_2_VOL_1].sort() });
      expect(await store.list(MNT_A)).to.deep.equal([]);
    });

    it('drops mount points with no ids', async () => {
      await store.replaceAll(new Map([
        [MNT_A, []],
        [MNT_B, [GUEST_1_VOL_2]],
      ]));
      expect([...(await store.entries()).keys()]).to.deep.equal([MNT_B]);
      expect(await store.add(MNT_A, GUEST_1_VOL_1)).to.equal(1);
    });

    it('empties the store with an empty table', async () => {
      await store.add(MNT_A, GUEST_1_VOL_1);
      await store.replaceAll(new Map());
      expect((await store.entries()).size).to.equal(0);
    });

    it('counts a duplicated id once', async () => {
      await store.replaceAll(new Map([[MNT_A, [GUEST_1_VOL_1, GUEST_1_VOL_1]]]));
      expect(await store.list(MNT_A)).to.deep.equal([GUEST_1_VOL_1]);
      expect(await store.remove(MNT_A, GUEST_1_VOL_1)).to.equal(0);
    });

    it('keeps its own copy of the table it was given', async () => {
      const ids = [GUEST_1_VOL_1];
      const table = new Map([[MNT_A, ids]]);
      await store.replaceAll(table);
      ids.push('intruder');
      table.set(MNT_B, ['intruder']);
      expect(plain(await store.entries())).to.deep.equal({ [MNT_A]: [GUEST_1_VOL_1] });
    });

    it('keeps counting from the replaced table', async () => {
      await store.replaceAll(new Map([[MNT_A, [GUEST_1_VOL_1, GUEST_2_VOL_1]]]));
      expect(await store.add(MNT_A, GUEST_1_VOL_2)).to.equal(3);
      expect(await store.remove(MNT_A, GUEST_1_VOL_1)).to.equal(2);
    });
  });

  describe('two stores', () => {
    it('share nothing', async () => {
      const other = new MemoryAttachmentStore();
      await store.add(MNT_A, GUEST_1_VOL_1);
      expect(await other.list(MNT_A)).to.deep.equal([]);
    });
  });
});
