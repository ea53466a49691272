/** The behaviour every AttachmentStore must show; each implementation's spec runs it. */
import { expect } from 'chai';
import type { AttachmentStore } from '../../lib/attachments/attachment-store.js';

export function describeAttachmentStoreContract(name: string, makeStore: () => Promise<AttachmentStore> | AttachmentStore): void {
  describe(`${name} (AttachmentStore contract)`, () => {
    let store: AttachmentStore;

    beforeEach(async () => {
      store = await makeStore();
    });

    it('starts empty', async () => {
      expect(await store.list('/mnt/a')).to.deep.equal([]);
      expect((await store.entries()).size).to.equal(0);
    });

    it('counts attachments per mount point on add and remove', async () => {
      expect(await store.add('/mnt/a', 'i1/v1')).to.equal(1);
      expect(await store.add('/mnt/a', 'i2/v2')).to.equal(2);
      expect(await store.add('/mnt/b', 'i1/v3')).to.equal(1);
      expect(await store.remove('/mnt/a', 'i1/v1')).to.equal(1);
      expect(await store.list('/mnt/a')).to.deep.equal(['i2/v2']);
      expect(await store.list('/mnt/b')).to.deep.equal(['i1/v3']);
    });

    it('treats a repeated add and an unknown remove as no change', async () => {
      await store.add('/mnt/a', 'i1/v1');
      expect(await store.add('/mnt/a', 'i1/v1')).to.equal(1);
      expect(await store.remove('/mnt/a', 'i9/v9')).to.equal(1);
      expect(await store.remove('/mnt/z', 'i9/v9')).to.equal(0);
    });

    it('drops a mount point when its last attachment goes', async () => {
      await store.add('/mnt/a', 'i1/v1');
      await store.remove('/mnt/a', 'i1/v1');
      expect([...(await store.entries()).keys()]).to.deep.equal([]);
    });

    it('replaces everything with replaceAll, skipping empty mount points', async () => {
      await store.add('/mnt/old', 'i1/v1');
      await store.replaceAll(new Map([['/mnt/a', ['i1/v1', 'i2/v2']], ['/mnt/empty', []]]));
      expect([...(await store.entries())]).to.deep.equal([['/mnt/a', ['i1/v1', 'i2/v2']]]);
    });

    it('answers has() for what is recorded, and nothing else', async () => {
      expect(await store.has('/mnt/a', 'i1/v1')).to.be.false;
      await store.add('/mnt/a', 'i1/v1');
      expect(await store.has('/mnt/a', 'i1/v1')).to.be.true;
      expect(await store.has('/mnt/a', 'i2/v2')).to.be.false;
      expect(await store.has('/mnt/b', 'i1/v1')).to.be.false;
      await store.remove('/mnt/a', 'i1/v1');
      expect(await store.has('/mnt/a', 'i1/v1')).to.be.false;
    });

    it('keeps mount paths and ids with any characters apart', async () => {
      const odd = ['/mnt/a b', '/mnt/a%2Fb', '/mnt/a/b', '.hidden', '..', 'ü/日本'];
      for (const path of odd) await store.add(path, `${path}#id`);
      for (const path of odd) expect(await store.list(path)).to.deep.equal([`${path}#id`]);
      expect([...(await store.entries()).keys()].sort()).to.deep.equal([...odd].sort());
    });

    it('offers a lock per mount point shared by its users', async () => {
      const lock = store.mountLock;
      expect(lock).to.not.equal(undefined);
      const order: string[] = [];
      await Promise.all(
        [1, 2].map((n) =>
          lock!.withLock('/mnt/a', async () => {
            order.push(`in ${n}`);
            await new Promise((resolve) => setTimeout(resolve, 5));
            order.push(`out ${n}`);
          }),
        ),
      );
      expect(order).to.deep.equal(['in 1', 'out 1', 'in 2', 'out 2']);
    });

    it('hands out copies, not its own state', async () => {
      await store.add('/mnt/a', 'i1/v1');
      const listed = await store.list('/mnt/a');
      (listed as string[]).push('x');
      const entries = await store.entries();
      (entries.get('/mnt/a') as string[]).push('y');
      expect(await store.list('/mnt/a')).to.deep.equal(['i1/v1']);
    });

    it('loses nothing when many updates run at once', async () => {
      await Promise.all(Array.from({ length: 50 }, (_, index) => store.add('/mnt/a', `i${index}/v`)));
      await Promise.all(Array.from({ length: 25 }, (_, index) => store.remove('/mnt/a', `i${index * 2}/v`)));
      expect(await store.list('/mnt/a')).to.have.length(25);
    });
  });
}
