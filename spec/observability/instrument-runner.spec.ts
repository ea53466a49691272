import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import sinon from 'sinon';
import type { Command, CommandResult, CommandRunner } from '../../lib/commands/command-runner.js';
import { ExecaCommandRunner } from '../../lib/commands/execa-command-runner.js';
import { CommandFailedError, CommandNotFoundError, CommandTimeoutError } from '../../lib/errors.js';
import * as packageRoot from '../../lib/index.js';
import { subscribeChannel, type CommandMessage } from '../../lib/observability/channels.js';
import { instrumentRunner } from '../../lib/observability/instrument-runner.js';
import type { Logger } from '../../lib/observability/logger.js';

use(chaiAsPromised);

const UMOUNT: Command = { file: 'umount', args: ['/mnt/a'] };

/** A runner whose answer the test decides, and a clock that moves 7 ms per reading. */
function fixture(answer: () => Promise<CommandResult>): { runner: CommandRunner; inner: sinon.SinonStub; logger: Logger & Record<keyof Logger, sinon.SinonSpy>; messages: CommandMessage[]; unsubscribe: () => void; now: () => number } {
  const inner = sinon.stub<[Command, unknown?], Promise<CommandResult>>().callsFake(answer);
  const logger = { debug: sinon.spy(), info: sinon.spy(), warn: sinon.spy(), error: sinon.spy() };
  let clock = 1000;
  const now = (): number => (clock += 7);
  const messages: CommandMessage[] = [];
  const unsubscribe = subscribeChannel('command', (message) => messages.push(message));
  return { runner: instrumentRunner({ run: inner }, { logger, now }), inner, logger, messages, unsubscribe, now };
}

describe('instrumentRunner()', () => {
  let unsubscribe = (): void => undefined;
  afterEach(() => {
    unsubscribe();
    sinon.restore();
  });

  it('passes the command and options through and resolves with the same result', async () => {
    const result = { exitCode: 1, stdout: 'degraded\n', stderr: '' };
    const f = fixture(() => Promise.resolve(result));
    unsubscribe = f.unsubscribe;
    const signal = new AbortController().signal;
    expect(await f.runner.run(UMOUNT, { okExitCodes: [0, 1], signal })).to.equal(result);
    expect(f.inner.firstCall.args).to.deep.equal([UMOUNT, { okExitCodes: [0, 1], signal }]);
  });

  it('publishes argv, duration and exit code of a command that succeeded', async () => {
    const f = fixture(() => Promise.resolve({ exitCode: 0, stdout: '', stderr: '' }));
    unsubscribe = f.unsubscribe;
    await f.runner.run(UMOUNT);
    expect(f.messages).to.deep.equal([{ argv: ['umount', '/mnt/a'], durationMs: 7, exitCode: 0, errorCode: null }]);
    expect(f.logger.debug.firstCall.args[0]).to.equal('command umount /mnt/a (7 ms, exit 0)');
    expect(f.logger.warn.callCount).to.equal(0);
  });

  const failures: Array<[string, () => Error, Partial<CommandMessage>]> = [
    ['a non-zero exit', () => new CommandFailedError({ command: UMOUNT, exitCode: 32, stdout: '', stderr: 'target is busy' }), { exitCode: 32, errorCode: 'ERR_COMMAND_FAILED' }],
    ['a kill by a signal', () => new CommandFailedError({ command: UMOUNT, exitCode: -1, signal: 'SIGKILL', stdout: '', stderr: '' }), { exitCode: null, errorCode: 'ERR_COMMAND_FAILED' }],
    ['a timeout', () => new CommandTimeoutError({ command: UMOUNT, timeoutMs: 5 }), { exitCode: null, errorCode: 'ERR_COMMAND_TIMEOUT' }],
    ['a missing program', () => new CommandNotFoundError(UMOUNT), { exitCode: null, errorCode: 'ERR_COMMAND_NOT_FOUND' }],
    ['an abort', () => Object.assign(new Error('The operation was aborted: umount /mnt/a'), { name: 'AbortError' }), { exitCode: null, errorCode: 'ABORT_ERR' }],
    ['an unexpected error', () => new Error('boom'), { exitCode: null, errorCode: 'ERR_UNEXPECTED' }],
  ];
  for (const [title, makeError, expected] of failures) {
    it(`publishes ${title} with its codes and rejects with the same error`, async () => {
      const error = makeError();
      const f = fixture(() => Promise.reject(error));
      unsubscribe = f.unsubscribe;
      const rejection: unknown = await f.runner.run(UMOUNT).catch((e: unknown) => e);
      expect(rejection).to.equal(error);
      expect(f.messages).to.deep.equal([{ argv: ['umount', '/mnt/a'], durationMs: 7, ...expected }]);
      expect(f.logger.warn.callCount).to.equal(1);
      expect(f.logger.warn.firstCall.args[0]).to.contain(expected.errorCode);
    });
  }

  it('times a real command on the real clock', async () => {
    const messages: CommandMessage[] = [];
    unsubscribe = subscribeChannel('command', (message) => messages.push(message));
    await instrumentRunner(new ExecaCommandRunner()).run({ file: 'sleep', args: ['0.2'] });
    expect(messages).to.have.length(1);
    expect(messages[0]?.argv).to.deep.equal(['sleep', '0.2']);
    expect(messages[0]?.exitCode).to.equal(0);
    expect(messages[0]?.durationMs).to.be.within(150, 5000);
  });

  it('refuses a logger without the four methods, and works with none', async () => {
    const inner: CommandRunner = { run: () => Promise.resolve({ exitCode: 0, stdout: '', stderr: '' }) };
    expect(() => instrumentRunner(inner, { logger: { debug: () => undefined } as unknown as Logger })).to.throw(TypeError, /without info, warn, error/);
    expect(() => instrumentRunner(inner, { logger: 'console' as unknown as Logger })).to.throw(TypeError, /got string/);
    await expect(instrumentRunner(inner).run(UMOUNT)).to.eventually.deep.equal({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('takes console as a logger', () => {
    expect(() => instrumentRunner({ run: sinon.stub() }, { logger: console })).not.to.throw();
  });

  it('is exported from the package root', () => {
    expect(packageRoot.instrumentRunner).to.equal(instrumentRunner);
  });
});
