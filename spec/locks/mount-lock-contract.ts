/** The behaviour every MountLock must show; each implementation's spec runs it. */
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import type { MountLock } from '../../lib/locks/mount-lock.js';

use(chaiAsPromised);

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function describeMountLockContract(name: string, makeLock: () => MountLock): void {
  describe(`${name} (MountLock contract)`, () => {
    let lock: MountLock;

    beforeEach(() => {
      lock = makeLock();
    });

    it('resolves to what fn resolves to', async () => {
      expect(await lock.withLock('/mnt/a', () => Promise.resolve(42))).to.equal(42);
    });

    it('runs one fn at a time per key, in arrival order', async () => {
      const events: string[] = [];
      await Promise.all(
        [1, 2, 3].map((n) =>
          lock.withLock('/mnt/a', async () => {
            events.push(`in ${n}`);
            await pause(5);
            events.push(`out ${n}`);
          }),
        ),
      );
      expect(events).to.deep.equal(['in 1', 'out 1', 'in 2', 'out 2', 'in 3', 'out 3']);
    });

    it('lets two keys run at once', async () => {
      const events: string[] = [];
      await Promise.all(
        ['/mnt/a', '/mnt/b'].map((key) =>
          lock.withLock(key, async () => {
            events.push(`in ${key}`);
            await pause(10);
            events.push(`out ${key}`);
          }),
        ),
      );
      expect(events.slice(0, 2).sort()).to.deep.equal(['in /mnt/a', 'in /mnt/b']);
    });

    it('passes on what fn throws and releases the lock', async () => {
      const failure = new Error('mount failed');
      await expect(lock.withLock('/mnt/a', () => Promise.reject(failure))).to.be.rejectedWith(failure);
      expect(await lock.withLock('/mnt/a', () => Promise.resolve('again'))).to.equal('again');
    });

    it('gives up waiting when the signal aborts, runs nothing, and leaves the holder alone', async () => {
      const controller = new AbortController();
      let ran = false;
      let release!: () => void;
      const holding = lock.withLock('/mnt/a', () => new Promise<void>((resolve) => (release = resolve)));
      await pause(5);
      const waiting = lock.withLock(
        '/mnt/a',
        () => {
          ran = true;
          return Promise.resolve();
        },
        { signal: controller.signal },
      );
      controller.abort();
      const error = await waiting.then(() => undefined, (e: unknown) => e);
      expect((error as Error).name).to.equal('AbortError');
      release();
      await holding;
      expect(ran).to.be.false;
      expect(await lock.withLock('/mnt/a', () => Promise.resolve('free'))).to.equal('free');
    });

    it('refuses at once with a signal already aborted', async () => {
      await expect(lock.withLock('/mnt/a', () => Promise.resolve(), { signal: AbortSignal.abort() })).to.be.rejectedWith(/aborted/);
    });
  });
}
