import { setImmediate as tick } from 'node:timers/promises';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { KeyedMutex } from '../../lib/drivers/keyed-mutex.js';

use(chaiAsPromised);

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback and one macrotask run. */
async function settle(): Promise<void> {
  await tick();
  await tick();
}

describe('KeyedMutex', () => {
  let mutex: KeyedMutex;

  beforeEach(() => {
    mutex = new KeyedMutex();
  });

  describe('runExclusive()', () => {
    it('resolves with what the task resolves with', async () => {
      expect(await mutex.runExclusive('/mnt/a', () => Promise.resolve(42))).to.equal(42);
    });

    it('runs tasks on the same key one after the other', async () => {
      const events: string[] = [];
      const gateA = deferred();
      const gateB = deferred();
      const a = mutex.runExclusive('/mnt/a', async () => {
        events.push('a start');
        await gateA.promise;
        events.push('a end');
        return 'a';
      });
      const b = mutex.runExclusive('/mnt/a', async () => {
        events.push('b start');
        await gateB.promise;
        events.push('b end');
        return 'b';
      });
      await settle();
      expect(events).to.deep.equal(['a start']);

      gateB.resolve();
      await settle();
      expect(events, 'b must wait for a even when b could finish').to.deep.equal(['a start']);

      gateA.resolve();
      expect(await Promise.all([a, b])).to.deep.equal(['a', 'b']);
      expect(events).to.deep.equal(['a start', 'a end', 'b start', 'b end']);
    });

    it('runs waiters on one key in the order they came', async () => {
      const order: number[] = [];
      const gate = deferred();
      const first = mutex.runExclusive('k', async () => {
        await gate.promise;
        order.push(0);
      });
      const rest = [1, 2, 3, 4].map((n) =>
        mutex.runExclusive('k', async () => {
          await tick();
          order.push(n);
        }),
      );
      gate.resolve();
      await Promise.all([first, ...rest]);
      expect(order).to.deep.equal([0, 1, 2, 3, 4]);
    });

    it('never has two tasks of one key running at once', async () => {
      let running = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 10 }, () =>
          mutex.runExclusive('k', async () => {
            running += 1;
            most = Math.max(most, running);
            await tick();
            running -= 1;
          }),
        ),
      );
      expect(most).to.equal(1);
    });

    it('runs tasks on different keys at the same time', async () => {
      const gateA = deferred();
      const events: string[] = [];
      const a = mutex.runExclusive('/mnt/a', async () => {
        events.push('a start');
        await gateA.promise;
        events.push('a end');
      });
      const b = mutex.runExclusive('/mnt/b', async () => {
        events.push('b start');
        await tick();
        events.push('b end');
      });
      await b;
      expect(events, 'b finished while a still held its lock').to.deep.equal(['a start', 'b start', 'b end']);
      gateA.resolve();
      await a;
      expect(events).to.deep.equal(['a start', 'b start', 'b end', 'a end']);
    });

    it('propagates the rejection of a task, the same error', async () => {
      const failure = new Error('mount failed');
      await expect(mutex.runExclusive('k', () => Promise.reject(failure))).to.be.rejectedWith(failure);
    });

    it('propagates an error thrown synchronously by a task', async () => {
      const failure = new Error('sync');
      const task = (): Promise<never> => {
        throw failure;
      };
      await expect(mutex.runExclusive('k', task)).to.be.rejectedWith(failure);
      expect(mutex.size).to.equal(0);
    });

    it('releases the lock when a task rejects, so the next one on the key runs', async () => {
      const gate = deferred();
      const failing = mutex.runExclusive('k', async () => {
        await gate.promise;
        throw new Error('boom');
      });
      const next = mutex.runExclusive('k', () => Promise.resolve('next ran'));
      gate.resolve();
      await expect(failing).to.be.rejectedWith('boom');
      expect(await next).to.equal('next ran');
    });

    it('does not share locks between two instances', async () => {
      const other = new KeyedMutex();
      const gate = deferred();
      const held = mutex.runExclusive('k', () => gate.promise);
      expect(await other.runExclusive('k', () => Promise.resolve('free'))).to.equal('free');
      gate.resolve();
      await held;
    });
  });

  describe('size', () => {
    it('is 0 when idle', () => {
      expect(mutex.size).to.equal(0);
    });

    it('counts keys with a holder or a waiter, not tasks', async () => {
      const gateA = deferred();
      const gateB = deferred();
      const a1 = mutex.runExclusive('a', () => gateA.promise);
      const a2 = mutex.runExclusive('a', () => Promise.resolve());
      expect(mutex.size).to.equal(1);
      const b = mutex.runExclusive('b', () => gateB.promise);
      expect(mutex.size).to.equal(2);

      gateB.resolve();
      await b;
      expect(mutex.size).to.equal(1);

      gateA.resolve();
      await Promise.all([a1, a2]);
      expect(mutex.size).to.equal(0);
    });

    it('keeps a key while a waiter is left after the holder finished', async () => {
      const gate1 = deferred();
      const gate2 = deferred();
      const first = mutex.runExclusive('k', () => gate1.promise);
      const second = mutex.runExclusive('k', () => gate2.promise);
      gate1.resolve();
      await first;
      expect(mutex.size).to.equal(1);
      gate2.resolve();
      await second;
      expect(mutex.size).to.equal(0);
    });

    it('is 0 after a task rejects', async () => {
      await expect(mutex.runExclusive('k', () => Promise.reject(new Error('x')))).to.be.rejected;
      expect(mutex.size).to.equal(0);
    });

    it('is 0 after many keys were used', async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => mutex.runExclusive(`/mnt/${i % 7}`, () => tick())));
      expect(mutex.size).to.equal(0);
    });
  });
});
