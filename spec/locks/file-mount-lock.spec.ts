import { execFile, spawn } from 'node:child_process';
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { MountLockError } from '../../lib/errors.js';
import { FileMountLock } from '../../lib/locks/file-mount-lock.js';
import { currentProcessIdentity, processStartTime } from '../../lib/locks/process-identity.js';
import { childEnv } from '../support/child-env.js';
import { describeMountLockContract } from './mount-lock-contract.js';

use(chaiAsPromised);

const run = promisify(execFile);
const worker = fileURLToPath(new URL('./file-mount-lock-worker.ts', import.meta.url));
const directories: string[] = [];
const KEY = '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6';
const LOCK_NAME = `${encodeURIComponent(KEY)}.lock`;

function freshDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'lvd-lock-'));
  directories.push(directory);
  return directory;
}

after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** A lock file as a holder with this identity would leave it. */
function plantLock(directory: string, holder: Partial<ReturnType<typeof currentProcessIdentity>>): void {
  writeFileSync(join(directory, LOCK_NAME), JSON.stringify({ ...currentProcessIdentity(), ...holder }));
}

/** Resolves when `fn` got the lock, with the milliseconds it waited. */
async function timeToLock(lock: FileMountLock, key = KEY): Promise<number> {
  const started = performance.now();
  await lock.withLock(key, () => Promise.resolve());
  return performance.now() - started;
}

describeMountLockContract('FileMountLock', () => new FileMountLock(freshDirectory()));

describe('FileMountLock', () => {
  it('holds a lock file naming this process while fn runs, and removes it after', async () => {
    const directory = freshDirectory();
    const lock = new FileMountLock(directory);
    const seen = await lock.withLock(KEY, () => Promise.resolve(JSON.parse(readFileSync(join(directory, LOCK_NAME), 'utf8')) as unknown));
    expect(seen).to.deep.equal(currentProcessIdentity());
    expect(readdirSync(directory)).to.deep.equal([]);
    expect(lock.size).to.equal(0);
  });

  it('creates a missing folder with mode 0700, resolving the function once', async () => {
    const parent = freshDirectory();
    let calls = 0;
    const lock = new FileMountLock(() => {
      calls += 1;
      return Promise.resolve(join(parent, 'a', 'locks'));
    });
    await timeToLock(lock);
    await timeToLock(lock);
    expect(calls).to.equal(1);
    expect(existsSync(join(parent, 'a', 'locks'))).to.be.true;
  });

  it('breaks at once a lock whose holder is gone', async () => {
    const directory = freshDirectory();
    plantLock(directory, { pid: 2 ** 22 + 1 }); // above pid_max: no such process
    expect(await timeToLock(new FileMountLock(directory))).to.be.below(100);
  });

  it('breaks a lock whose pid was reused (another start time) or from an earlier boot', async () => {
    const directory = freshDirectory();
    plantLock(directory, { start: '1' });
    expect(await timeToLock(new FileMountLock(directory))).to.be.below(100);
    plantLock(directory, { boot: 'an-earlier-boot' });
    expect(await timeToLock(new FileMountLock(directory))).to.be.below(100);
  });

  it('breaks a lock file that is not one (garbage)', async () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, LOCK_NAME), 'garbage');
    expect(await timeToLock(new FileMountLock(directory))).to.be.below(100);
  });

  it('waits for a live holder (in another pid namespace too: it cannot be judged)', async () => {
    const directory = freshDirectory();
    plantLock(directory, { pid: process.ppid, start: processStartTime(process.ppid) ?? '' });
    const controller = new AbortController();
    setTimeout(() => { controller.abort(); }, 150);
    await expect(new FileMountLock(directory).withLock(KEY, () => Promise.resolve(), { signal: controller.signal })).to.be.rejectedWith(/aborted/);
    plantLock(directory, { pid: 2 ** 22 + 1, pidns: 'pid:[1]' });
    const again = new AbortController();
    setTimeout(() => { again.abort(); }, 150);
    await expect(new FileMountLock(directory).withLock(KEY, () => Promise.resolve(), { signal: again.signal })).to.be.rejectedWith(/aborted/);
    // The holder's file is left as it was; the waiter's temporary file is gone.
    expect(readdirSync(directory)).to.deep.equal([LOCK_NAME]);
  });

  it('leaves a take-over claim alone while fresh, and removes one left by a dead taker after a second', async () => {
    const directory = freshDirectory();
    plantLock(directory, { pid: 2 ** 22 + 1 });
    linkSync(join(directory, LOCK_NAME), join(directory, `${LOCK_NAME}.takeover`));
    const waited = await timeToLock(new FileMountLock(directory));
    expect(waited).to.be.within(900, 2_000);
    expect(readdirSync(directory)).to.deep.equal([]);
  });

  it('never lets a fresh lock be taken for the stale one it replaced (many takers at once)', async () => {
    const directory = freshDirectory();
    plantLock(directory, { pid: 2 ** 22 + 1 });
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        new FileMountLock(directory).withLock(KEY, async () => {
          inside += 1;
          most = Math.max(most, inside);
          await new Promise((resolve) => setTimeout(resolve, 3));
          inside -= 1;
        }),
      ),
    );
    expect(most).to.equal(1);
  });

  it('rejects with MountLockError when the folder cannot be made', async () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, 'file'), '');
    await expect(timeToLock(new FileMountLock(join(directory, 'file', 'locks')))).to.be.rejectedWith(MountLockError, /Cannot use the lock folder/);
  });

  it('throws TypeError for an empty folder or key', async () => {
    expect(() => new FileMountLock('')).to.throw(TypeError);
    await expect(new FileMountLock(freshDirectory()).withLock('', () => Promise.resolve())).to.be.rejectedWith(TypeError);
  });

  describe('across processes', () => {
    it('excludes: 3 processes × 40 read-increment-write rounds lose no increment', async function () {
      this.timeout(120_000);
      const directory = freshDirectory();
      const counter = join(directory, 'counter');
      writeFileSync(counter, '0');
      await Promise.all([1, 2, 3].map(() => run(process.execPath, ['--import', 'tsx', worker, 'count', join(directory, 'locks'), KEY, counter, '40'], { env: childEnv() })));
      expect(readFileSync(counter, 'utf8')).to.equal('120');
    });

    it('hands the lock of a kill -9ed holder to a waiter well within a second', async function () {
      this.timeout(60_000);
      const directory = freshDirectory();
      const child = spawn(process.execPath, ['--import', 'tsx', worker, 'hold', directory, KEY], { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('locked')) resolve();
        });
        child.on('exit', () => { reject(new Error('the holder exited early')); });
      });
      const waiting = timeToLock(new FileMountLock(directory));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const killedAt = performance.now();
      child.kill('SIGKILL');
      await waiting;
      const afterKill = performance.now() - killedAt;
      expect(afterKill).to.be.below(1_000);
      expect(readdirSync(directory)).to.deep.equal([]);
    });
  });
});
