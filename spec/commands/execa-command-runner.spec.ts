import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import type { Command } from '../../lib/commands/command-runner.js';
import { ExecaCommandRunner } from '../../lib/commands/execa-command-runner.js';
import { CommandFailedError, CommandNotFoundError, CommandTimeoutError, VolumeDriverError } from '../../lib/errors.js';

use(chaiAsPromised);

/** A node one-liner that prints its arguments as JSON, so argv can be compared exactly. */
const PRINT_ARGV = 'process.stdout.write(JSON.stringify(process.argv.slice(1)))';

function node(script: string, ...args: string[]): Command {
  // `--` ends node's own options, so every following argument reaches the script as it is.
  return { file: process.execPath, args: ['-e', script, '--', ...args] };
}

function sh(script: string, ...args: string[]): Command {
  return { file: 'sh', args: ['-c', script, 'sh', ...args] };
}

/** Whether a process with this pid still exists (a reaped child does not). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function readPid(pidFile: string): Promise<number> {
  const pid = Number.parseInt((await readFile(pidFile, 'utf8')).trim(), 10);
  expect(pid).to.be.a('number').and.to.be.greaterThan(1);
  return pid;
}

async function waitForFile(path: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const size = await stat(path).then((s) => s.size, () => 0);
    if (size > 0) return;
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await delay(10);
  }
}

async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Records its pid, then sleeps in the same process (`exec` keeps the pid). */
function sleeperWritingPid(pidFile: string, { ignoreTerm = false } = {}): Command {
  const trap = ignoreTerm ? 'trap "" TERM; ' : '';
  // SIG_IGN survives exec, so `sleep` ignores SIGTERM too when asked to.
  return sh(`${trap}echo $$ > "$1"; exec sleep 30`, pidFile);
}

describe('ExecaCommandRunner', () => {
  let tmp: string;

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'execa-command-runner-spec-'));
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  describe('constructor', () => {
    it('accepts no options', () => {
      expect(() => new ExecaCommandRunner()).not.to.throw();
    });

    it('accepts a rootHelper of non-empty strings, a timeout of 0 and an env', () => {
      expect(() => new ExecaCommandRunner({ rootHelper: ['sudo', '-n'], timeoutMs: 0, env: { LC_ALL: 'C' } })).not.to.throw();
    });

    it('throws TypeError when rootHelper is a string, not an array', () => {
      expect(() => new ExecaCommandRunner({ rootHelper: 'sudo' as unknown as string[] })).to.throw(TypeError, /Expected rootHelper/);
    });

    it('throws TypeError when rootHelper holds an empty string', () => {
      expect(() => new ExecaCommandRunner({ rootHelper: ['sudo', ''] })).to.throw(TypeError, /Expected rootHelper .*got \["sudo",""\]/);
    });

    it('throws TypeError when rootHelper holds a non-string', () => {
      expect(() => new ExecaCommandRunner({ rootHelper: ['sudo', 1 as unknown as string] })).to.throw(TypeError, /Expected rootHelper/);
    });

    it('throws TypeError when rootHelper is null', () => {
      expect(() => new ExecaCommandRunner({ rootHelper: null as unknown as string[] })).to.throw(TypeError, /Expected rootHelper/);
    });

    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '100' as unknown as number]) {
      it(`throws TypeError when timeoutMs is ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)}`, () => {
        expect(() => new ExecaCommandRunner({ timeoutMs: bad })).to.throw(TypeError, /Expected timeoutMs to be a non-negative integer/);
      });
    }
  });

  describe('run()', () => {
    const runner = new ExecaCommandRunner();

    describe('success', () => {
      it('resolves with exit code, stdout and stderr, keeping the final newline', async () => {
        const result = await runner.run(sh('echo out; echo err >&2'));
        expect(result).to.deep.equal({ exitCode: 0, stdout: 'out\n', stderr: 'err\n' });
      });

      it('resolves with empty strings when the program prints nothing', async () => {
        expect(await runner.run({ file: 'true', args: [] })).to.deep.equal({ exitCode: 0, stdout: '', stderr: '' });
      });

      it('runs with stdin closed, so a program reading stdin does not wait', async () => {
        const result = await runner.run({ file: 'cat', args: [] }, { timeoutMs: 5000 });
        expect(result).to.deep.equal({ exitCode: 0, stdout: '', stderr: '' });
      });
    });

    describe('argv', () => {
      it('passes every argument verbatim, never through a shell', async () => {
        const args = ['$HOME; echo x', '`id`', '$(id)', "it's", '"quoted"', '', '  spaced  ', '*', 'a\\b', 'new\nline', '-x', '--', '|', '>out', 'é🙂'];
        const { stdout } = await runner.run(node(PRINT_ARGV, ...args));
        expect(JSON.parse(stdout)).to.deep.equal(args);
      });

      it('does not expand a glob or redirect in an argument (no file is written)', async () => {
        const target = join(tmp, 'redirected');
        const { stdout } = await runner.run({ file: 'printf', args: ['%s|', '>', target, '*'] });
        expect(stdout).to.equal(`>|${target}|*|`);
        expect(await fileExists(target)).to.equal(false);
      });

      it('does not run a command smuggled into the program name', async () => {
        const marker = join(tmp, 'marker');
        const error: unknown = await runner.run({ file: `touch ${marker}`, args: [] }).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(CommandNotFoundError);
        expect(await fileExists(marker)).to.equal(false);
      });
    });

    describe('okExitCodes', () => {
      it('rejects a non-zero exit by default', async () => {
        await expect(runner.run(sh('exit 1'))).to.be.rejectedWith(CommandFailedError);
      });

      it('resolves with the exit code when it is listed', async () => {
        const result = await runner.run(sh('echo degraded; exit 1'), { okExitCodes: [0, 1] });
        expect(result).to.deep.equal({ exitCode: 1, stdout: 'degraded\n', stderr: '' });
      });

      it('rejects exit 0 when 0 is not listed', async () => {
        const error = (await runner.run(sh('exit 0'), { okExitCodes: [32] }).catch((e: unknown) => e)) as CommandFailedError;
        expect(error).to.be.instanceOf(CommandFailedError);
        expect(error.exitCode).to.equal(0);
      });

      it('rejects an exit code not listed even when others are', async () => {
        const error = (await runner.run(sh('exit 3'), { okExitCodes: [0, 1] }).catch((e: unknown) => e)) as CommandFailedError;
        expect(error).to.be.instanceOf(CommandFailedError);
        expect(error.exitCode).to.equal(3);
      });
    });

    describe('CommandFailedError', () => {
      it('carries command, exitCode, stdout, stderr and a message of fixed grammar', async () => {
        const command = sh('echo some output; echo "mount: busy" >&2; exit 32');
        const error = (await runner.run(command).catch((e: unknown) => e)) as CommandFailedError;
        expect(error).to.be.instanceOf(CommandFailedError);
        expect(error).to.be.instanceOf(VolumeDriverError);
        expect(error.code).to.equal('ERR_COMMAND_FAILED');
        expect(error.name).to.equal('CommandFailedError');
        expect(error.command).to.deep.equal(command);
        expect(error.exitCode).to.equal(32);
        expect(error.signal).to.equal(undefined);
        expect(error.stdout).to.equal('some output\n');
        expect(error.stderr).to.equal('mount: busy\n');
        expect(error.message).to.equal(
          'Command failed with exit code 32: sh -c echo some output; echo "mount: busy" >&2; exit 32 sh\nmount: busy',
        );
      });

      it('has a message without a stderr tail when stderr is empty', async () => {
        const error = (await runner.run({ file: 'false', args: ['--ignored'] }).catch((e: unknown) => e)) as CommandFailedError;
        expect(error.message).to.equal('Command failed with exit code 1: false --ignored');
      });

      it('reports a process killed by a signal with its signal and exit code -1', async () => {
        const error = (await runner.run(sh('kill -9 $$')).catch((e: unknown) => e)) as CommandFailedError;
        expect(error).to.be.instanceOf(CommandFailedError);
        expect(error.signal).to.equal('SIGKILL');
        expect(error.exitCode).to.equal(-1);
        expect(error.message).to.match(/^Command failed with signal SIGKILL: sh -c kill -9 \$\$ sh$/);
      });

      it('rejects a program that exists but cannot be executed, keeping the errno as cause', async () => {
        const script = join(tmp, 'not-executable');
        await writeFile(script, '#!/bin/sh\necho hi\n');
        await chmod(script, 0o644);
        const error = (await runner.run({ file: script, args: [] }).catch((e: unknown) => e)) as CommandFailedError;
        expect(error).to.be.instanceOf(CommandFailedError);
        expect(error).not.to.be.instanceOf(CommandNotFoundError);
        expect(error.exitCode).to.equal(-1);
        expect(error.cause).to.have.property('code', 'EACCES');
      });
    });

    describe('CommandNotFoundError', () => {
      it('rejects when the program is not on PATH', async () => {
        const command = { file: 'no-such-program-3c1e9b', args: ['x'] };
        const error = (await runner.run(command).catch((e: unknown) => e)) as CommandNotFoundError;
        expect(error).to.be.instanceOf(CommandNotFoundError);
        expect(error.code).to.equal('ERR_COMMAND_NOT_FOUND');
        expect(error.command).to.deep.equal(command);
        expect(error.message).to.equal('Command not found: no-such-program-3c1e9b');
        expect(error.cause).to.have.property('code', 'ENOENT');
      });

      it('rejects when an absolute path does not exist', async () => {
        await expect(runner.run({ file: join(tmp, 'missing'), args: [] })).to.be.rejectedWith(CommandNotFoundError);
      });
    });

    describe('timeout', () => {
      it('rejects with CommandTimeoutError and kills the process', async () => {
        const pidFile = join(tmp, 'pid');
        const command = sleeperWritingPid(pidFile);
        const started = Date.now();
        const error = (await runner.run(command, { timeoutMs: 500 }).catch((e: unknown) => e)) as CommandTimeoutError;
        expect(Date.now() - started).to.be.lessThan(5000);
        expect(error).to.be.instanceOf(CommandTimeoutError);
        expect(error.code).to.equal('ERR_COMMAND_TIMEOUT');
        expect(error.timeoutMs).to.equal(500);
        expect(error.command).to.deep.equal(command);
        expect(error.message).to.equal(`Command timed out after 500 milliseconds: sh -c echo $$ > "$1"; exec sleep 30 sh ${pidFile}`);
        expect(isAlive(await readPid(pidFile))).to.equal(false);
      });

      it('kills a process that ignores SIGTERM (SIGKILL follows)', async () => {
        const pidFile = join(tmp, 'pid');
        const started = Date.now();
        const error: unknown = await runner.run(sleeperWritingPid(pidFile, { ignoreTerm: true }), { timeoutMs: 300 }).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(CommandTimeoutError);
        expect(Date.now() - started).to.be.lessThan(10_000);
        expect(isAlive(await readPid(pidFile))).to.equal(false);
      });

      it('keeps the output printed before the timeout', async () => {
        const error = (await runner.run(sh('echo partial; echo oops >&2; exec sleep 30'), { timeoutMs: 500 }).catch((e: unknown) => e)) as CommandTimeoutError;
        expect(error).to.be.instanceOf(CommandTimeoutError);
        expect(error.stdout).to.equal('partial\n');
        expect(error.stderr).to.equal('oops\n');
      });

      it('uses the runner-level timeout when the call gives none', async () => {
        const pidFile = join(tmp, 'pid');
        const error = (await new ExecaCommandRunner({ timeoutMs: 400 }).run(sleeperWritingPid(pidFile)).catch((e: unknown) => e)) as CommandTimeoutError;
        expect(error).to.be.instanceOf(CommandTimeoutError);
        expect(error.timeoutMs).to.equal(400);
        expect(isAlive(await readPid(pidFile))).to.equal(false);
      });

      it('lets the per-call timeout override the runner-level one', async () => {
        const error = (await new ExecaCommandRunner({ timeoutMs: 60_000 }).run(sh('exec sleep 30'), { timeoutMs: 300 }).catch((e: unknown) => e)) as CommandTimeoutError;
        expect(error).to.be.instanceOf(CommandTimeoutError);
        expect(error.timeoutMs).to.equal(300);
      });

      it('runs without a timeout when the call gives 0', async () => {
        const result = await new ExecaCommandRunner({ timeoutMs: 100 }).run(sh('sleep 0.4; echo done'), { timeoutMs: 0 });
        expect(result.stdout).to.equal('done\n');
      });

      it('does not fire for a command that finishes in time', async () => {
        const result = await runner.run(sh('echo quick'), { timeoutMs: 5000 });
        expect(result.stdout).to.equal('quick\n');
      });
    });

    describe('signal', () => {
      it('rejects with an AbortError and kills the process when the signal aborts', async () => {
        const pidFile = join(tmp, 'pid');
        const controller = new AbortController();
        const running = runner.run(sleeperWritingPid(pidFile), { signal: controller.signal, timeoutMs: 20_000 });
        await waitForFile(pidFile);
        const pid = await readPid(pidFile);
        expect(isAlive(pid)).to.equal(true);
        const started = Date.now();
        controller.abort();
        const error = (await running.catch((e: unknown) => e)) as Error;
        expect(Date.now() - started).to.be.lessThan(5000);
        expect(error).to.be.instanceOf(Error);
        expect(error.name).to.equal('AbortError');
        expect(error).not.to.be.instanceOf(CommandTimeoutError);
        expect(error).not.to.be.instanceOf(CommandFailedError);
        expect(isAlive(pid)).to.equal(false);
      });

      it('rejects with an AbortError keeping a non-error reason as cause when aborted while running', async () => {
        const pidFile = join(tmp, 'pid');
        const controller = new AbortController();
        const running = runner.run(sleeperWritingPid(pidFile), { signal: controller.signal, timeoutMs: 20_000 });
        await waitForFile(pidFile);
        controller.abort('agent shutting down');
        const error = (await running.catch((e: unknown) => e)) as Error;
        expect(error.name).to.equal('AbortError');
        expect(error.cause).to.equal('agent shutting down');
        expect(isAlive(await readPid(pidFile))).to.equal(false);
      });

      it('rejects with an AbortError when an AbortSignal.timeout() fires while running', async () => {
        const pidFile = join(tmp, 'pid');
        const error = (await runner.run(sleeperWritingPid(pidFile), { signal: AbortSignal.timeout(300), timeoutMs: 20_000 }).catch((e: unknown) => e)) as Error;
        expect(error.name).to.equal('AbortError');
        expect(isAlive(await readPid(pidFile))).to.equal(false);
      });

      it('runs nothing when the signal is already aborted', async () => {
        const marker = join(tmp, 'ran');
        const controller = new AbortController();
        controller.abort();
        const error = (await runner.run(sh('echo ran > "$1"', marker), { signal: controller.signal }).catch((e: unknown) => e)) as Error;
        expect(error).to.be.instanceOf(Error);
        expect(error.name).to.equal('AbortError');
        await delay(200);
        expect(await fileExists(marker)).to.equal(false);
      });

      // Regression: an already-aborted signal used to rethrow its raw reason (a string here)
      // instead of an error named AbortError, unlike the same abort while the command runs.
      it('rejects with an AbortError when the signal was already aborted with a non-error reason', async () => {
        const marker = join(tmp, 'ran');
        const controller = new AbortController();
        controller.abort('agent shutting down');
        const error: unknown = await runner.run(sh('echo ran > "$1"', marker), { signal: controller.signal }).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(Error);
        expect(error).to.have.property('name', 'AbortError');
        expect(await fileExists(marker)).to.equal(false);
      });

      it('rejects with an AbortError keeping an Error reason as cause when the signal was already aborted', async () => {
        const reason = new Error('shutdown');
        const error = (await runner.run(sh('true'), { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e)) as Error;
        expect(error.name).to.equal('AbortError');
        expect(error.cause).to.equal(reason);
      });

      it('does not affect a command that finishes before any abort', async () => {
        const controller = new AbortController();
        const result = await runner.run(sh('echo fine'), { signal: controller.signal });
        controller.abort();
        expect(result.stdout).to.equal('fine\n');
      });
    });

    describe('rootHelper', () => {
      it('puts the prefix before the command', async () => {
        const helped = new ExecaCommandRunner({ rootHelper: ['env', 'FOO=bar'] });
        const result = await helped.run(sh('echo $FOO'));
        expect(result.stdout).to.equal('bar\n');
      });

      it('passes the command after the prefix verbatim', async () => {
        const helped = new ExecaCommandRunner({ rootHelper: ['env', 'FOO=bar'] });
        const args = ['$FOO; echo x', '', 'a b'];
        const { stdout } = await helped.run(node(PRINT_ARGV, ...args));
        expect(JSON.parse(stdout)).to.deep.equal(args);
      });

      it('shows the prefixed argv in the error', async () => {
        const helped = new ExecaCommandRunner({ rootHelper: ['env', 'FOO=bar'] });
        const error = (await helped.run(sh('exit 5')).catch((e: unknown) => e)) as CommandFailedError;
        expect(error).to.be.instanceOf(CommandFailedError);
        expect(error.command).to.deep.equal({ file: 'env', args: ['FOO=bar', 'sh', '-c', 'exit 5', 'sh'] });
        expect(error.message).to.equal('Command failed with exit code 5: env FOO=bar sh -c exit 5 sh');
      });

      it('shows the prefixed argv in a timeout error', async () => {
        const helped = new ExecaCommandRunner({ rootHelper: ['env'] });
        const error = (await helped.run(sh('exec sleep 30'), { timeoutMs: 300 }).catch((e: unknown) => e)) as CommandTimeoutError;
        expect(error).to.be.instanceOf(CommandTimeoutError);
        expect(error.command).to.deep.equal({ file: 'env', args: ['sh', '-c', 'exec sleep 30', 'sh'] });
      });

      it('rejects with CommandNotFoundError naming the helper when the helper is missing', async () => {
        const helped = new ExecaCommandRunner({ rootHelper: ['no-such-helper-3c1e9b', '-n'] });
        const error = (await helped.run({ file: 'true', args: [] }).catch((e: unknown) => e)) as CommandNotFoundError;
        expect(error).to.be.instanceOf(CommandNotFoundError);
        expect(error.command).to.deep.equal({ file: 'no-such-helper-3c1e9b', args: ['-n', 'true'] });
      });

      it('does not share state with the array it was given', async () => {
        const prefix = ['env', 'FOO=bar'];
        const helped = new ExecaCommandRunner({ rootHelper: prefix });
        prefix[1] = 'FOO=changed';
        expect((await helped.run(sh('echo $FOO'))).stdout).to.equal('bar\n');
      });
    });

    describe('env', () => {
      it('adds per-call variables to the inherited environment', async () => {
        const result = await runner.run(sh('echo "$LVD_SPEC_VAR:$HOME"'), { env: { LVD_SPEC_VAR: 'call' } });
        expect(result.stdout).to.equal(`call:${process.env.HOME ?? ''}\n`);
      });

      it('adds runner-level variables to every command', async () => {
        const withEnv = new ExecaCommandRunner({ env: { LVD_SPEC_VAR: 'runner' } });
        expect((await withEnv.run(sh('echo $LVD_SPEC_VAR'))).stdout).to.equal('runner\n');
        expect((await withEnv.run(sh('echo again $LVD_SPEC_VAR'))).stdout).to.equal('again runner\n');
      });

      it('lets per-call variables override runner-level ones', async () => {
        const withEnv = new ExecaCommandRunner({ env: { LVD_SPEC_VAR: 'runner', LVD_SPEC_OTHER: 'kept' } });
        const result = await withEnv.run(sh('echo $LVD_SPEC_VAR $LVD_SPEC_OTHER'), { env: { LVD_SPEC_VAR: 'call' } });
        expect(result.stdout).to.equal('call kept\n');
      });

      it('lets runner-level variables override inherited ones', async () => {
        const withEnv = new ExecaCommandRunner({ env: { HOME: '/nonexistent-home' } });
        expect((await withEnv.run(sh('echo $HOME'))).stdout).to.equal('/nonexistent-home\n');
      });

      it('does not leak a per-call variable into the next call', async () => {
        await runner.run(sh('true'), { env: { LVD_SPEC_VAR: 'once' } });
        expect((await runner.run(sh('echo "[$LVD_SPEC_VAR]"'))).stdout).to.equal('[]\n');
      });
    });
  });
});
