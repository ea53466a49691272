/**
 * ExecaCommandRunner on a `PATH` it cannot fully search, and the abort error naming the command.
 * Root may search any folder, so the unreadable-folder cases run the runner as `nobody` in a
 * child process (or in this process, when it is not root).
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ExecaCommandRunner } from '../../lib/commands/execa-command-runner.js';
import { CommandFailedError, CommandNotFoundError } from '../../lib/errors.js';

const NOBODY = 65534;
const FIXTURE = fileURLToPath(new URL('fixtures/run-command.ts', import.meta.url));

interface Outcome {
  ok: boolean;
  stdout?: string;
  name?: string;
  code?: string;
  message?: string;
  cause?: string;
}

/** Runs the commands as a user who cannot search a mode-000 folder (one child for all: tsx starts slowly). */
function runAsUnprivileged(requests: ReadonlyArray<{ file: string; args: string[]; env: Record<string, string> }>): Outcome[] {
  const request = JSON.stringify(requests);
  const uid = process.getuid?.();
  const child = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE, request], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    // tsx keeps its cache in the temporary folder, per user.
    env: { ...process.env, TMPDIR: tmpdir() },
    ...(uid === 0 ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  expect(child.status, child.stderr).to.equal(0);
  return JSON.parse(child.stdout) as Outcome[];
}

describe('ExecaCommandRunner', () => {
  let tmp: string;
  let locked: string;
  let open: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'execa-path-spec-'));
    await chmod(tmp, 0o755);
    locked = join(tmp, 'locked');
    open = join(tmp, 'open');
    await mkdir(locked);
    await mkdir(open);
    await writeFile(join(locked, 'hidden-program'), '#!/bin/sh\necho hidden\n', { mode: 0o755 });
    await writeFile(join(open, 'visible-program'), '#!/bin/sh\necho visible\n', { mode: 0o755 });
    await writeFile(join(open, 'not-executable'), '#!/bin/sh\necho no\n', { mode: 0o644 });
    await chmod(locked, 0o000);
  });

  after(async () => {
    await chmod(locked, 0o755);
    await rm(tmp, { recursive: true, force: true });
  });

  describe('run() with a folder on PATH that cannot be searched', () => {
    let outcomes: Outcome[] = [];
    before(function () {
      this.timeout(60_000);
      const PATH = `${locked}:${open}:/usr/bin:/bin`;
      outcomes = runAsUnprivileged([
        { file: 'no-such-program-7f2a', args: ['x'], env: { PATH } },
        { file: 'hidden-program', args: [], env: { PATH: `${locked}:/usr/bin:/bin` } },
        { file: 'visible-program', args: [], env: { PATH } },
        { file: 'not-executable', args: [], env: { PATH } },
      ]);
    });

    it('rejects a missing program with CommandNotFoundError, not "exit code -1"', () => {
      expect(outcomes[0]).to.deep.include({ ok: false, name: 'CommandNotFoundError', code: 'ERR_COMMAND_NOT_FOUND', cause: 'EACCES' });
      expect(outcomes[0]?.message).to.equal('Command not found: no-such-program-7f2a');
    });

    it('counts a program inside the folder as not found, as a shell does', () => {
      expect(outcomes[1]).to.deep.include({ ok: false, code: 'ERR_COMMAND_NOT_FOUND' });
    });

    it('still runs a program found in a later folder', () => {
      expect(outcomes[2]).to.deep.equal({ ok: true, stdout: 'visible\n' });
    });

    it('still reports a program that is there but not executable as a failure to run it', () => {
      expect(outcomes[3]).to.deep.include({ ok: false, name: 'CommandFailedError', code: 'ERR_COMMAND_FAILED', cause: 'EACCES' });
    });
  });

  describe('run() with a program that is there but not executable, by bare name', () => {
    it('rejects with CommandFailedError keeping EACCES, not CommandNotFoundError', async () => {
      const runner = new ExecaCommandRunner({ env: { PATH: `${open}:/usr/bin:/bin` } });
      const error: unknown = await runner.run({ file: 'not-executable', args: [] }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(CommandFailedError);
      expect(error).not.to.be.instanceOf(CommandNotFoundError);
      expect((error as Error).cause).to.have.property('code', 'EACCES');
    });
  });

  describe('run() aborted', () => {
    it('names the command in the AbortError, before it starts', async () => {
      const error = (await new ExecaCommandRunner().run({ file: 'umount', args: ['/mnt/x'] }, { signal: AbortSignal.abort() }).catch((e: unknown) => e)) as Error;
      expect(error.name).to.equal('AbortError');
      expect(error.message).to.equal('The operation was aborted: umount /mnt/x');
    });

    it('names the command with its root helper in the AbortError, while it runs', async () => {
      const controller = new AbortController();
      const runner = new ExecaCommandRunner({ rootHelper: ['env'] });
      const running = runner.run({ file: 'sleep', args: ['30'] }, { signal: controller.signal });
      setTimeout(() => { controller.abort(new Error('agent stopping')); }, 200);
      const error = (await running.catch((e: unknown) => e)) as Error;
      expect(error.name).to.equal('AbortError');
      expect(error.message).to.equal('The operation was aborted: env sleep 30');
      expect((error.cause as Error).message).to.equal('agent stopping');
    });
  });
});
