import { expect } from 'chai';
import sinon from 'sinon';
import type { Command, CommandResult, CommandRunner, RunOptions } from '../../lib/commands/command-runner.js';
import { detectSystemd } from '../../lib/drivers/detect-systemd.js';
import { CommandFailedError, CommandNotFoundError, CommandTimeoutError } from '../../lib/errors.js';
import type { FileSystemProbe } from '../../lib/filesystem/file-system-probe.js';

const SYSTEMCTL: Command = { file: 'systemctl', args: ['is-system-running'] };

describe('detectSystemd()', () => {
  const sandbox = sinon.createSandbox();
  let run: sinon.SinonStub<[Command, RunOptions?], Promise<CommandResult>>;
  let runner: CommandRunner;
  let readInitProcessName: sinon.SinonStub<[], Promise<string | undefined>>;
  let pathExists: sinon.SinonStub<[string], Promise<boolean>>;
  let probe: FileSystemProbe;

  function systemctlPrints(stdout: string, exitCode = 0): void {
    run.resolves({ exitCode, stdout, stderr: '' });
  }

  beforeEach(() => {
    run = sandbox.stub<[Command, RunOptions?], Promise<CommandResult>>().rejects(new Error('unexpected command'));
    runner = { run };
    readInitProcessName = sandbox.stub<[], Promise<string | undefined>>().resolves('init');
    pathExists = sandbox.stub<[string], Promise<boolean>>().resolves(false);
    const unused = (): Promise<never> => Promise.reject(new Error('not used by detectSystemd'));
    probe = {
      readInitProcessName,
      pathExists,
      listMounts: unused,
      stat: unused,
      lstat: unused,
      isWritable: unused,
      ensureDirectory: unused,
      removeDirectory: unused,
    };
  });

  afterEach(() => {
    sandbox.restore();
  });

  describe('when PID 1 is systemd', () => {
    beforeEach(() => {
      readInitProcessName.resolves('systemd');
    });

    for (const state of ['running', 'starting', 'degraded']) {
      it(`is true when systemctl prints ${state}`, async () => {
        systemctlPrints(`${state}\n`, state === 'running' ? 0 : 1);
        expect(await detectSystemd(runner, probe, 5000)).to.equal(true);
      });
    }

    it('runs systemctl is-system-running, accepting exit 0 and 1, with the given timeout', async () => {
      systemctlPrints('running\n');
      await detectSystemd(runner, probe, 1234);
      expect(run.callCount).to.equal(1);
      const [command, options] = run.firstCall.args;
      expect(command).to.deep.equal(SYSTEMCTL);
      expect(options).to.deep.include({ okExitCodes: [0, 1], timeoutMs: 1234 });
    });

    for (const state of ['offline', 'maintenance', 'stopping', 'initializing', 'unknown', '', 'Running', 'running degraded']) {
      it(`is false when systemctl prints ${JSON.stringify(state)}`, async () => {
        systemctlPrints(`${state}\n`, 1);
        expect(await detectSystemd(runner, probe, 5000)).to.equal(false);
        expect(run.callCount).to.equal(1);
      });
    }
  });

  describe('when PID 1 is not systemd', () => {
    it('is false and runs nothing without /run/systemd/system', async () => {
      readInitProcessName.resolves('init');
      expect(await detectSystemd(runner, probe, 5000)).to.equal(false);
      expect(run.called).to.equal(false);
      expect(pathExists.calledOnceWithExactly('/run/systemd/system')).to.equal(true);
    });

    it('is false and runs nothing when the name of PID 1 cannot be read and the path is missing', async () => {
      readInitProcessName.resolves(undefined);
      expect(await detectSystemd(runner, probe, 5000)).to.equal(false);
      expect(run.called).to.equal(false);
    });

    describe('and /run/systemd/system exists', () => {
      beforeEach(() => {
        readInitProcessName.resolves('dumb-init');
        pathExists.withArgs('/run/systemd/system').resolves(true);
      });

      it('is true when systemctl prints running', async () => {
        systemctlPrints('running\n');
        expect(await detectSystemd(runner, probe, 5000)).to.equal(true);
        expect(run.firstCall.args[0]).to.deep.equal(SYSTEMCTL);
      });

      it('is true when systemctl prints degraded and exits 1', async () => {
        systemctlPrints('degraded\n', 1);
        expect(await detectSystemd(runner, probe, 5000)).to.equal(true);
      });

      it('is false when systemctl prints offline', async () => {
        systemctlPrints('offline\n', 1);
        expect(await detectSystemd(runner, probe, 5000)).to.equal(false);
        expect(run.callCount).to.equal(1);
      });

      it('is false when the name of PID 1 cannot be read and systemctl prints maintenance', async () => {
        readInitProcessName.resolves(undefined);
        systemctlPrints('maintenance\n', 1);
        expect(await detectSystemd(runner, probe, 5000)).to.equal(false);
        expect(run.callCount).to.equal(1);
      });
    });
  });

  describe('when systemctl fails (Nova raised here)', () => {
    beforeEach(() => {
      readInitProcessName.resolves('systemd');
    });

    it('is false when systemctl is not installed', async () => {
      run.rejects(new CommandNotFoundError(SYSTEMCTL));
      expect(await detectSystemd(runner, probe, 5000)).to.equal(false);
      expect(run.callCount).to.equal(1);
    });

    it('is false when systemctl exits with a status outside 0 and 1', async () => {
      run.rejects(new CommandFailedError({ command: SYSTEMCTL, exitCode: 3, stdout: '', stderr: 'System has not been booted with systemd' }));
      expect(await detectSystemd(runner, probe, 5000)).to.equal(false);
    });

    it('is false when systemctl times out', async () => {
      run.rejects(new CommandTimeoutError({ command: SYSTEMCTL, timeoutMs: 5000 }));
      expect(await detectSystemd(runner, probe, 5000)).to.equal(false);
    });
  });
});
