import { expect } from 'chai';
import { MemoryAttachmentStore } from '../../lib/attachments/memory-attachment-store.js';
import { FileAttachmentStore } from '../../lib/attachments/file-attachment-store.js';
import type { AttachmentStore } from '../../lib/attachments/attachment-store.js';
import { defaultMountLockFor } from '../../lib/locks/default-mount-lock-for.js';
import { MemoryMountLock } from '../../lib/locks/memory-mount-lock.js';
import { describeMountLockContract } from './mount-lock-contract.js';

describeMountLockContract('MemoryMountLock', () => new MemoryMountLock());

describe('MemoryMountLock', () => {
  it('forgets a key once nobody holds or waits for it', async () => {
    const lock = new MemoryMountLock();
    await lock.withLock('/mnt/a', () => Promise.resolve());
    expect(lock.size).to.equal(0);
  });
});

describe('defaultMountLockFor()', () => {
  it('takes the store’s own lock, so every driver on one store shares it', () => {
    const memory = new MemoryAttachmentStore();
    expect(defaultMountLockFor(memory)).to.equal(memory.mountLock);
    const file = new FileAttachmentStore('/nonexistent/attachments.json');
    expect(defaultMountLockFor(file)).to.equal(file.mountLock);
  });

  it('makes a lock local to the caller for a store without one', () => {
    const inner = new MemoryAttachmentStore();
    const bare: AttachmentStore = {
      has: (mountPath, id) => inner.has(mountPath, id),
      add: (mountPath, id) => inner.add(mountPath, id),
      remove: (mountPath, id) => inner.remove(mountPath, id),
      list: (mountPath) => inner.list(mountPath),
      entries: () => inner.entries(),
      replaceAll: (table) => inner.replaceAll(table),
    };
    const lock = defaultMountLockFor(bare);
    expect(lock).to.be.instanceOf(MemoryMountLock);
    expect(defaultMountLockFor(bare)).to.not.equal(lock);
  });
});
