/**
 * The pool against real children. A FIFO nobody writes to stands in for a hung mount: opening
 * it for reading blocks until a writer comes, and a fatal signal ends the wait, as it ends a
 * FUSE request the client has not read yet.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { ProbeChildPool } from '../../lib/filesystem/probe-child-pool.js';
import { hangingNode } from '../support/hanging-node.js';

use(chaiAsPromised);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Gone, not a zombie: the pool reaped it. */
function reaped(pid: number): boolean {
  return !existsSync(`/proc/${pid}`);
}

/** Blocked in openat(2) (x86-64 syscall 257): waiting for a FIFO's writer. */
function blockedInOpen(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith('257 ');
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, ms = 15_000): Promise<void> {
  const until = performance.now() + ms;
  while (!check()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** The rejection of a call that must fail. */
async function failure(promise: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  return promise.then(() => { throw new Error('expected a rejection'); }, (error: unknown) => error as NodeJS.ErrnoException);
}

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(() => 'fulfilled', (error: unknown) => (error as NodeJS.ErrnoException).code);
}

describe('ProbeChildPool', function () {
  this.timeout(30_000);
  let tmp: string;
  let pool: ProbeChildPool;
  /** A Node for the children in which a `*.hang` FIFO blocks (see spec/support/hanging-node.ts). */
  let node: string;
  const fifos: string[] = [];

  function fifo(): string {
    // Opened blocking by the children of `hangingNode` (a hung mount's stand-in).
    const path = join(tmp, `fifo-${fifos.length}.hang`);
    execFileSync('mkfifo', [path]);
    fifos.push(path);
    return path;
  }

  /** A stand-in for the Node binary: a shell script. */
  function fakeNode(body: string): string {
    const path = join(tmp, `fake-node-${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  beforeEach(async () => {
    tmp = await realpath(await mkdtemp(join(tmpdir(), 'probe-child-pool-spec-')));
    node = hangingNode(tmp);
    pool = new ProbeChildPool({ execPath: node });
  });

  afterEach(async () => {
    pool.close();
    // Free any child still blocked in an open of a FIFO (non-blocking open for writing fails
    // with ENXIO when no reader is left: fine).
    for (const path of fifos.splice(0)) {
      try {
        closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader
      }
    }
    await rm(tmp, { recursive: true, force: true });
  });

  it('runs stat, lstat, realpath, access, mkdir, rmdir and read in a child', async () => {
    writeFileSync(join(tmp, 'f'), 'hello');
    expect(await pool.run({ op: 'stat', path: join(tmp, 'f') })).to.include({ size: 5, isFile: true });
    expect(await pool.run({ op: 'lstat', path: tmp })).to.include({ isDirectory: true });
    expect(await pool.run({ op: 'realpath', path: `${tmp}/./f` })).to.equal(join(tmp, 'f'));
    expect(await pool.run({ op: 'access', path: tmp, mode: 2 })).to.equal(true);
    expect(await pool.run({ op: 'mkdir', path: join(tmp, 'a', 'b') })).to.equal(true);
    expect(await pool.run({ op: 'rmdir', path: join(tmp, 'a', 'b') })).to.equal(true);
    expect(existsSync(join(tmp, 'a', 'b'))).to.be.false;
    expect(Buffer.from(String(await pool.run({ op: 'read', path: join(tmp, 'f'), position: 1, length: 3 })), 'base64').toString()).to.equal('ell');
    expect(pool.pids).to.have.length(1);
    expect(pool.pids[0]).to.not.equal(process.pid);
  });

  it('rejects with the child\'s errno code, path and syscall', async () => {
    const error = await failure(pool.run({ op: 'stat', path: join(tmp, 'missing') }));
    expect(error).to.be.instanceOf(Error).and.include({ code: 'ENOENT', syscall: 'stat', path: join(tmp, 'missing') });
  });

  it('rejects an unknown operation with EINVAL and keeps the child', async () => {
    await pool.run({ op: 'stat', path: tmp });
    const [pid] = pool.pids;
    expect(await code(pool.run({ op: 'chmod', path: tmp } as never))).to.equal('EINVAL');
    expect(pool.pids).to.deep.equal([pid]);
  });

  it('reads a request longer than one read of the pipe, with a character split between two reads', async () => {
    // 80,000 bytes of two-byte characters after an odd-length prefix: some read ends mid-character.
    const path = `/a${'ü'.repeat(40_000)}`;
    const error = await failure(pool.run({ op: 'stat', path }));
    expect(error.code).to.equal('ENAMETOOLONG');
    expect(error.path === path, 'the child saw the path intact').to.be.true;
    expect(await pool.run({ op: 'stat', path: tmp })).to.include({ isDirectory: true });
  });

  describe('read', () => {
    it('never follows a final link (ELOOP) and never blocks on a FIFO, with the children\'s own Node', async () => {
      const plain = new ProbeChildPool();
      try {
        writeFileSync(join(tmp, 'image'), 'QFI');
        symlinkSync(join(tmp, 'image'), join(tmp, 'link'));
        expect(await code(plain.run({ op: 'read', path: join(tmp, 'link'), position: 0, length: 3 }, 5_000))).to.equal('ELOOP');
        const path = join(tmp, 'fifo');
        execFileSync('mkfifo', [path]);
        const started = performance.now();
        // O_NONBLOCK: the open returns at once, and a FIFO has no positions to read at.
        expect(await code(plain.run({ op: 'read', path, position: 0, length: 1 }, 5_000))).to.equal('ESPIPE');
        expect(performance.now() - started).to.be.below(2_000);
      } finally {
        plain.close();
      }
    });
  });

  describe('a call that gets no answer in time', () => {
    it('rejects with ETIMEDOUT, kills its child (reaped, no zombie) and answers the next call from a new one', async () => {
      await pool.run({ op: 'stat', path: tmp });
      const [first] = pool.pids;
      const started = performance.now();
      const error = await failure(pool.run({ op: 'read', path: fifo(), position: 0, length: 1 }, 300));
      expect(performance.now() - started).to.be.within(280, 2_000);
      expect(error).to.include({ code: 'ETIMEDOUT' });
      expect(error.message).to.match(/^ETIMEDOUT: no answer within 300 ms, read '.*fifo-0\.hang'$/);
      await eventually(() => reaped(first!));
      expect(pool.killedPids).to.deep.equal([]);
      expect(await pool.run({ op: 'stat', path: tmp }, 5_000)).to.include({ isDirectory: true });
      expect(pool.pids).to.have.length(1).and.not.include(first);
    });

    it('times each call from when a child takes it: a full pool is not a hung mount', async () => {
      const small = new ProbeChildPool({ maxChildren: 1, execPath: node });
      try {
        const hung = small.run({ op: 'read', path: fifo(), position: 0, length: 1 }, 400);
        const started = performance.now();
        const healthy = small.run({ op: 'stat', path: tmp }, 300);
        expect(await code(hung)).to.equal('ETIMEDOUT');
        expect(await healthy).to.include({ isDirectory: true });
        expect(performance.now() - started).to.be.above(300);
      } finally {
        small.close();
      }
    });

    it('keeps 8 hung calls in 8 children, none in this process: a local read still answers at once', async () => {
      await pool.run({ op: 'stat', path: tmp });
      const hung = Array.from({ length: 8 }, () => pool.run({ op: 'read', path: fifo(), position: 0, length: 1 }, 60_000));
      await eventually(() => pool.pids.length === 8 && pool.pids.every(blockedInOpen), 25_000);
      writeFileSync(join(tmp, 'local'), 'local');
      const started = performance.now();
      expect(await readFile(join(tmp, 'local'), 'utf8')).to.equal('local');
      expect(performance.now() - started).to.be.below(500);
      // A ninth child for a healthy path, while the eight wait.
      expect(await pool.run({ op: 'stat', path: tmp }, 5_000)).to.include({ isDirectory: true });
      const pids = pool.pids;
      pool.close();
      expect((await Promise.all(hung.map(code))).every((c) => c === 'ECANCELED')).to.be.true;
      await eventually(() => pids.every(reaped));
    });

    it('waits as long as the kernel does without a timeout', async () => {
      const path = fifo();
      const read = pool.run({ op: 'read', path, position: 0, length: 1 });
      await eventually(() => pool.pids.length === 1 && blockedInOpen(pool.pids[0]!));
      await sleep(300);
      const writer = openSync(path, 'w');
      closeSync(writer);
      // The open returned; a FIFO has no positions to read at.
      expect(await code(read)).to.equal('ESPIPE');
    });
  });

  describe('starting more children', () => {
    it('serves a burst of quick calls from the running child, starting no other', async () => {
      // A long spawnAfterMs, so that a busy machine pausing the child cannot make this flaky.
      const patient = new ProbeChildPool({ spawnAfterMs: 5_000, execPath: node });
      try {
        await patient.run({ op: 'stat', path: tmp });
        const first = patient.pids;
        const answers = await Promise.all(Array.from({ length: 30 }, () => patient.run({ op: 'stat', path: tmp }, 5_000)));
        expect(answers.every((answer) => (answer as { isDirectory: boolean }).isDirectory)).to.be.true;
        expect(patient.pids).to.deep.equal(first);
      } finally {
        patient.close();
      }
    });

    it('starts no second child for calls queued while the first one starts (slower than spawnAfterMs)', async () => {
      // A Node that takes 400 ms to start, as on a loaded host; the calls arrive before it is ready.
      const slow = join(tmp, 'slow-node');
      writeFileSync(slow, `#!/bin/sh\nsleep 0.4\nexec '${process.execPath}' "$@"\n`);
      chmodSync(slow, 0o755);
      const patient = new ProbeChildPool({ spawnAfterMs: 25, execPath: slow });
      try {
        const answers = await Promise.all(Array.from({ length: 10 }, () => patient.run({ op: 'stat', path: tmp }, 5_000)));
        expect(answers).to.have.length(10);
        expect(patient.pids).to.have.length(1);
      } finally {
        patient.close();
      }
    });

    it('starts another child for a call that waited spawnAfterMs behind a hung one', async () => {
      const patient = new ProbeChildPool({ spawnAfterMs: 100, execPath: node });
      try {
        await patient.run({ op: 'stat', path: tmp });
        const hung = patient.run({ op: 'read', path: fifo(), position: 0, length: 1 }, 60_000);
        await eventually(() => patient.pids.length === 1 && patient.pids.every(blockedInOpen));
        const started = performance.now();
        expect(await patient.run({ op: 'stat', path: tmp }, 5_000)).to.include({ isDirectory: true });
        expect(performance.now() - started).to.be.at.least(95);
        expect(patient.pids).to.have.length(2);
        patient.close();
        expect(await code(hung)).to.equal('ECANCELED');
      } finally {
        patient.close();
      }
    });
  });

  describe('a child that dies', () => {
    it('is replaced when it was idle', async () => {
      await pool.run({ op: 'stat', path: tmp });
      const [pid] = pool.pids;
      process.kill(pid!, 'SIGKILL');
      await eventually(() => reaped(pid!));
      expect(await pool.run({ op: 'stat', path: tmp }, 5_000)).to.include({ isDirectory: true });
      expect(pool.pids).to.not.include(pid);
    });

    it('under a call: the call is tried once more on a new child', async () => {
      const path = fifo();
      const read = pool.run({ op: 'read', path, position: 0, length: 1 }, 10_000);
      await eventually(() => pool.pids.length === 1 && blockedInOpen(pool.pids[0]!));
      const [pid] = pool.pids;
      process.kill(pid!, 'SIGKILL');
      await eventually(() => pool.pids.length === 1 && pool.pids[0] !== pid && blockedInOpen(pool.pids[0]!));
      closeSync(openSync(path, 'w'));
      expect(await code(read)).to.equal('ESPIPE');
    });

    it('twice under a call: the call fails with ECHILD', async () => {
      const fake = fakeNode(`echo "{\\"ready\\":$$}"; read line; echo "$line" >> ${tmp}/seen; exit 1`);
      const broken = new ProbeChildPool({ execPath: fake });
      try {
        const error = await failure(broken.run({ op: 'stat', path: tmp }, 5_000));
        expect(error).to.include({ code: 'ECHILD' });
        expect(error.message).to.include('died during stat');
        expect(readFileSync(join(tmp, 'seen'), 'utf8').trim().split('\n')).to.have.length(2);
      } finally {
        broken.close();
      }
    });
  });

  describe('a child that cannot start', () => {
    it('rejects with the spawn error when the binary is missing', async () => {
      const missing = new ProbeChildPool({ execPath: join(tmp, 'no-node') });
      expect(await code(missing.run({ op: 'stat', path: tmp }, 1_000))).to.equal('ENOENT');
    });

    it('rejects with ECHILD and what it said when it exits before it is ready', async () => {
      const dying = new ProbeChildPool({ execPath: fakeNode('echo "cannot start" >&2; exit 7') });
      const error = await failure(dying.run({ op: 'stat', path: tmp }, 1_000));
      expect(error).to.include({ code: 'ECHILD' });
      expect(error.message).to.include('cannot start').and.include('exit code 7');
    });

    it('rejects with ECHILD when it prints something else than the protocol', async () => {
      const chatty = new ProbeChildPool({ execPath: fakeNode('echo "Debugger listening"; sleep 5') });
      expect(await code(chatty.run({ op: 'stat', path: tmp }, 1_000))).to.equal('ECHILD');
      expect(chatty.pids).to.deep.equal([]);
    });

    it('rejects with ECHILD when it is not ready within startTimeoutMs, and kills it', async () => {
      const slow = new ProbeChildPool({ execPath: fakeNode('exec sleep 30'), startTimeoutMs: 200 });
      const error = await failure(slow.run({ op: 'stat', path: tmp }, 1_000));
      expect(error.message).to.include('not ready within 200 ms');
      expect(slow.pids).to.deep.equal([]);
    });
  });

  it('lets idle children beyond the first go after idleMs', async () => {
    const pooled = new ProbeChildPool({ idleMs: 100, execPath: node });
    try {
      const paths = [fifo(), fifo(), fifo()];
      const reads = paths.map((path) => pooled.run({ op: 'read', path, position: 0, length: 1 }, 10_000));
      await eventually(() => pooled.pids.length === 3 && pooled.pids.every(blockedInOpen));
      for (const path of paths) closeSync(openSync(path, 'w'));
      await Promise.all(reads.map(code));
      await eventually(() => pooled.pids.length === 1);
      await sleep(300);
      expect(pooled.pids).to.have.length(1);
    } finally {
      pooled.close();
    }
  });

  it('close() fails waiting and running calls with ECANCELED and kills the children', async () => {
    const small = new ProbeChildPool({ maxChildren: 1, execPath: node });
    const running = small.run({ op: 'read', path: fifo(), position: 0, length: 1 });
    const waiting = small.run({ op: 'stat', path: tmp });
    await eventually(() => small.pids.length === 1 && blockedInOpen(small.pids[0]!));
    const [pid] = small.pids;
    small.close();
    expect(await code(running)).to.equal('ECANCELED');
    expect(await code(waiting)).to.equal('ECANCELED');
    await eventually(() => reaped(pid!));
  });

  it('refuses a maxChildren that is not a positive integer', () => {
    expect(() => new ProbeChildPool({ maxChildren: 0 })).to.throw(TypeError, 'Expected maxChildren to be a positive integer, got 0');
  });

  it('does not keep the process alive when idle', function () {
    const pool = fileURLToPath(new URL('../../lib/filesystem/probe-child-pool.ts', import.meta.url));
    const script = `import { ProbeChildPool } from ${JSON.stringify(pool)}; const p = new ProbeChildPool(); console.log(JSON.stringify(await p.run({ op: 'stat', path: '/' }, 10000)));`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(result.signal, 'the process did not exit on its own').to.equal(null);
    expect(result.status).to.equal(0);
    expect(JSON.parse(result.stdout)).to.include({ isDirectory: true });
  });
});
