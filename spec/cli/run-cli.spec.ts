import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import sinon from 'sinon';
import { runCli } from '../../lib/cli/run-cli.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { FakeHost } from '../support/fake-host.js';
import { BASE, Collector, EXPORT, MOUNT_PATH, NAME, attachArgs, makeTemporaryDirectory, onHost, removeTemporaryDirectory, runCaptured } from './cli-harness.js';

/** Exactly one line, `libvirt-volume: <CODE>: <message>`. */
const ERROR_LINE = /^libvirt-volume: [A-Z][A-Z0-9_]*: [^\n]+\n$/;

describe('runCli()', () => {
  let host: FakeHost;
  let dir: string;

  beforeEach(() => {
    host = new FakeHost();
    dir = makeTemporaryDirectory();
  });

  afterEach(() => {
    sinon.restore();
    removeTemporaryDirectory(dir);
  });

  describe('help and version', () => {
    it('prints the program help to the given stdout and exits 0', async () => {
      const result = await runCaptured(['--help']);
      expect(result.exitCode).to.equal(0);
      expect(result.stderr).to.equal('');
      expect(result.stdout).to.match(/^Usage: libvirt-volume \[options\] \[command\]/);
      for (const command of ['config', 'connect', 'disconnect', 'status']) expect(result.stdout).to.contain(`  ${command} [options]`);
      expect(result.stdout).to.contain('LIBVIRT_VOLUME_MOUNT_BASE').and.to.contain('LIBVIRT_VOLUME_STATE');
    });

    for (const command of ['config', 'connect', 'disconnect', 'status']) {
      it(`prints the help of ${command} and exits 0, running nothing`, async () => {
        const result = await runCaptured([command, '--help'], onHost(host));
        expect(result).to.include({ exitCode: 0, stderr: '' });
        expect(result.stdout).to.match(new RegExp(`^Usage: libvirt-volume ${command} \\[options\\]`));
        expect(result.stdout).to.contain('--base <dir>');
        expect(host.runner.run.called).to.be.false;
      });
    }

    it('prints help for `help <command>` and exits 0', async () => {
      const result = await runCaptured(['help', 'status']);
      expect(result).to.include({ exitCode: 0, stderr: '' });
      expect(result.stdout).to.match(/^Usage: libvirt-volume status/);
    });

    it('wraps help to the width of a terminal', async () => {
      const stdout = Object.assign(new Collector(), { columns: 200 });
      const stderr = new Collector();
      expect(await runCli(['connect', '--help'], { stdout, stderr })).to.equal(0);
      expect(stdout.text).to.match(/--timeout-ms <ms> +timeout of each mount and unmount command \(default: 60000\)\n/);
    });

    it('prints the package version for --version and exits 0', async () => {
      const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      expect(await runCaptured(['--version'])).to.deep.equal({ exitCode: 0, stdout: `${version}\n`, stderr: '' });
      expect(await runCaptured(['-V'])).to.deep.equal({ exitCode: 0, stdout: `${version}\n`, stderr: '' });
    });
  });

  describe('usage errors (exit 2, ERR_USAGE)', () => {
    const cases: Array<{ title: string; argv: string[]; line: string }> = [
      { title: 'no command', argv: [], line: "libvirt-volume: ERR_USAGE: missing command (see 'libvirt-volume --help')\n" },
      { title: 'an unknown command', argv: ['frobnicate'], line: "libvirt-volume: ERR_USAGE: unknown command 'frobnicate'\n" },
      { title: 'a misspelt command (no suggestion line)', argv: ['statsu'], line: "libvirt-volume: ERR_USAGE: unknown command 'statsu'\n" },
      { title: 'an unknown option', argv: ['status', '--bogus'], line: "libvirt-volume: ERR_USAGE: unknown option '--bogus'\n" },
      {
        title: 'a missing --export',
        argv: ['config', '--name', NAME],
        line: "libvirt-volume: ERR_USAGE: required option '--export <export>' not specified\n",
      },
      {
        title: 'a missing --name',
        argv: ['config', '--export', EXPORT],
        line: "libvirt-volume: ERR_USAGE: required option '--name <name>' not specified\n",
      },
      {
        title: 'a missing --instance',
        argv: ['connect', '--export', EXPORT, '--name', NAME],
        line: "libvirt-volume: ERR_USAGE: required option '--instance <uuid>' not specified\n",
      },
      {
        title: 'an option without its value',
        argv: ['config', '--name', NAME, '--export'],
        line: "libvirt-volume: ERR_USAGE: option '--export <export>' argument missing\n",
      },
      {
        title: 'a stray argument',
        argv: ['status', 'extra'],
        line: "libvirt-volume: ERR_USAGE: too many arguments for 'status'. Expected 0 arguments but got 1.\n",
      },
      {
        title: 'a timeout that is not a number',
        argv: ['status', '--probe-timeout-ms', '5s'],
        line: "libvirt-volume: ERR_USAGE: option '--probe-timeout-ms <ms>' argument '5s' is invalid. Expected a whole number of milliseconds.\n",
      },
      {
        title: 'a timeout the driver refuses',
        argv: [...attachArgs('connect', '/nonexistent/state.json'), '--timeout-ms', '0'],
        line: 'libvirt-volume: ERR_USAGE: Expected commandTimeoutMs to be a positive integer, got 0\n',
      },
      {
        title: 'a relative base',
        argv: ['status', '--base', 'relative/dir'],
        line: 'libvirt-volume: ERR_USAGE: Expected mountPointBase to be an absolute path, got "relative/dir"\n',
      },
      {
        title: 'a client configuration file that looks like an option',
        argv: [...attachArgs('connect', '/nonexistent/state.json'), '--cfg=-o'],
        line: 'libvirt-volume: ERR_USAGE: Expected clientConfigFile to be a path, got "-o"\n',
      },
    ];
    for (const { title, argv, line } of cases) {
      it(`reports ${title} in one line and runs nothing`, async () => {
        const result = await runCaptured(argv, onHost(host));
        expect(result).to.deep.equal({ exitCode: 2, stdout: '', stderr: line });
        expect(host.runner.run.called).to.be.false;
        expect(host.probe.ensureDirectory.called).to.be.false;
      });
    }
  });

  describe('operation errors (exit 1, the error code)', () => {
    it('reports a library error with its code and the first line of its message', async () => {
      host.mountFailure = 'mount.quobyte: registry unreachable\nretry later';
      const result = await runCaptured(attachArgs('connect', `${dir}/state.json`), onHost(host));
      expect(result.exitCode).to.equal(1);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.equal(`libvirt-volume: ERR_VOLUME_MOUNT: Could not mount 192.168.1.1/volume-00001 at ${MOUNT_PATH}: mount.quobyte: registry unreachable\n`);
    });

    it('reports an error without a code as ERR_UNEXPECTED', async () => {
      const result = await runCaptured(['status'], {
        ...onHost(host),
        createDriver: () => {
          throw new RangeError('boom\nmore');
        },
      });
      expect(result).to.deep.equal({ exitCode: 1, stdout: '', stderr: 'libvirt-volume: ERR_UNEXPECTED: RangeError: boom\n' });
    });

    it('reports a refused volume exactly as the library words it', async () => {
      const result = await runCaptured(['config', '--export', EXPORT, '--name', '../x']);
      expect(result).to.deep.equal({
        exitCode: 1,
        stdout: '',
        stderr: 'libvirt-volume: ERR_INVALID_CONNECTION_INFO: Invalid connection info: data.name must be a single path component (no "/")\n',
      });
      expect(result.stderr).to.match(ERROR_LINE);
    });
  });

  it('builds the driver from the base, the store, the client configuration and the timeouts', async () => {
    const createDriver = sinon.spy((options: ConstructorParameters<typeof QuobyteVolumeDriver>[0]) => new QuobyteVolumeDriver({ ...options, systemd: false }));
    const state = `${dir}/state.json`;
    const result = await runCaptured(
      [...attachArgs('connect', state), '--cfg', '/etc/quobyte/client.cfg', '--timeout-ms', '1234', '--probe-timeout-ms', '567'],
      { probe: host.probe, runner: host.runner, createDriver },
    );
    expect(result.exitCode).to.equal(0);
    const options = createDriver.firstCall.args[0];
    expect(options).to.include({ mountPointBase: BASE, clientConfigFile: '/etc/quobyte/client.cfg', commandTimeoutMs: 1234, probeTimeoutMs: 567 });
    expect(options.probe).to.equal(host.probe);
    expect(options.runner).to.equal(host.runner);
    expect((options.attachments as { filePath?: string } | undefined)?.filePath).to.equal(state);
    expect(host.argv).to.deep.equal([`mount.quobyte --disable-xattrs 192.168.1.1/volume-00001 ${MOUNT_PATH} -c /etc/quobyte/client.cfg`]);
    expect(result.stdout).to.equal(`mounted ${MOUNT_PATH}, device ${MOUNT_PATH}/${NAME}\n`);
  });
});
