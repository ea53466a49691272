/**
 * The guides in docs/ against the code they describe: listings that must match files, CLI
 * options that must exist, and the sudoers rules that must allow exactly what the driver runs.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import sinon from 'sinon';
import { DEFAULT_MOUNT_BASE, DEFAULT_STATE_FILE_NAME, MOUNT_BASE_ENV, STATE_ENV } from '../../lib/cli/cli-context.js';
import type { Command } from '../../lib/commands/command-runner.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import type { FuseAbortResult } from '../../lib/filesystem/file-system-probe.js';
import { runCaptured } from '../cli/cli-harness.js';
import { FakeHost } from '../support/fake-host.js';

function read(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
}

/** The fenced code blocks of a Markdown file with the given info string. */
function codeBlocks(markdown: string, language: string): string[] {
  const blocks: string[] = [];
  const fence = new RegExp(String.raw`^\`\`\`${language}\n([\s\S]*?)^\`\`\`$`, 'gm');
  for (const match of markdown.matchAll(fence)) blocks.push(match[1] ?? '');
  return blocks;
}

/** The part of a Markdown file under a `## heading`, up to the next one. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}`);
  expect(start, `section "${heading}"`).to.be.greaterThan(-1);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

describe('docs/', () => {
  describe('writing-a-driver.md', () => {
    const guide = read('docs/writing-a-driver.md');

    it('lists docs/examples/nfs-volume-driver.ts exactly as it is', () => {
      expect(codeBlocks(guide, 'ts')).to.include(read('docs/examples/nfs-volume-driver.ts'));
    });

    it('shows the NFS contract spec exactly as it is', () => {
      const spec = read('spec/docs/nfs-volume-driver.contract.spec.ts');
      expect(codeBlocks(guide, 'ts')).to.include(`// spec/docs/nfs-volume-driver.contract.spec.ts\n${spec}`);
    });

    it('names every hook FileSystemVolumeDriver declares', () => {
      const source = read('lib/drivers/file-system-volume-driver.ts');
      const hooks = [...source.matchAll(/^ {2}protected (?:abstract )?(?:readonly )?(\w+)[(:]/gm)].map((match) => match[1] ?? '');
      expect(hooks).to.include.members(['driverVolumeType', 'normalizeExport', 'checkExport', 'buildMountCommand', 'isOwnMount', 'checkMountRoot']);
      for (const hook of hooks) expect(guide, hook).to.contain(`\`${hook}`);
    });
  });

  describe('operations.md', () => {
    const guide = read('docs/operations.md');

    it('names the CLI\'s environment variables and defaults as the code does', () => {
      for (const text of [MOUNT_BASE_ENV, STATE_ENV, DEFAULT_MOUNT_BASE, DEFAULT_STATE_FILE_NAME]) expect(guide).to.contain(text);
    });

    it('documents only options the CLI has, and every one it has', async () => {
      // The section without the commands it quotes from --dry-run output.
      const cli = section(guide, 'The command line: `libvirt-volume`').replace(/^would run: .*$/gm, '');
      const documented = new Set([...cli.matchAll(/(?<![\w-])--[a-z][a-z-]+/g)].map((match) => match[0]));
      documented.delete('--help');
      documented.delete('--version');
      const real = new Set<string>();
      for (const command of ['config', 'connect', 'disconnect', 'status']) {
        const { stdout } = await runCaptured([command, '--help']);
        for (const [option] of stdout.matchAll(/(?<![\w-])--[a-z][a-z-]+/g)) real.add(option);
      }
      real.delete('--help');
      expect([...documented].filter((option) => !real.has(option)), 'documented but unknown').to.deep.equal([]);
      expect([...real].filter((option) => !documented.has(option)), 'real but undocumented').to.deep.equal([]);
    });

    describe('the sudoers example', () => {
      const block = codeBlocks(guide, 'sudoers')[0] ?? '';
      /** `program → argument patterns`, from the Cmnd_Alias lines. */
      const rules = [...block.matchAll(/^ {2}(\/\S+) (.*?),? ?\\?$/gm)].map(([, path = '', args = '']) => ({
        program: path.slice(path.lastIndexOf('/') + 1),
        matches: (argv: string): boolean => (args.startsWith('^') ? new RegExp(args).test(argv) : argv === args),
      }));
      const allowed = (command: Command): boolean =>
        rules.some((rule) => rule.program === command.file && rule.matches(command.args.join(' ')));

      async function commandsOfALifeCycle(systemd: boolean, clientConfigFile?: string): Promise<Command[]> {
        const host = new FakeHost({ init: systemd ? 'systemd' : 'init' });
        const driver = new QuobyteVolumeDriver({
          mountPointBase: DEFAULT_MOUNT_BASE,
          runner: host.runner,
          probe: host.probe,
          ...(clientConfigFile === undefined ? {} : { clientConfigFile }),
        });
        host.probe.abortFuseConnection = sinon.spy((_minor: number): Promise<FuseAbortResult> => Promise.resolve('no-fusectl'));
        for (const exportName of ['quobyte://192.168.1.1/volume-00001', 'reg1:7861,reg2:7861/vols', '[fd00::1]:7861/vol']) {
          const ci = { driver_volume_type: 'quobyte', data: { export: exportName, name: 'volume-1' } };
          const instance = { uuid: '0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11' };
          await driver.connectVolume(ci, instance);
          host.stats.set(driver.getMountPath(ci), { errno: 'ETIMEDOUT' });
          await driver.connectVolume(ci, instance, { forceRepair: true }); // hung: fusectl, umount -l, mount
          await driver.disconnectVolume(ci, instance); // umount
        }
        return host.commands;
      }

      it('has rules for every program', () => {
        expect(rules.map((rule) => rule.program)).to.have.members(['systemctl', 'systemd-run', 'mount.quobyte', 'umount', 'mount']);
      });

      for (const systemd of [true, false]) {
        it(`allows every command the driver runs ${systemd ? 'under systemd' : 'without systemd'}`, async () => {
          const commands = [...(await commandsOfALifeCycle(systemd)), ...(await commandsOfALifeCycle(systemd, '/etc/quobyte/client.cfg'))];
          expect(new Set(commands.map((command) => command.file))).to.have.length.of.at.least(systemd ? 4 : 3);
          for (const command of commands) expect(allowed(command), [command.file, ...command.args].join(' ')).to.equal(true);
        });
      }

      it('refuses what the driver never runs', () => {
        const mountPath = `${DEFAULT_MOUNT_BASE}/c94ed34ada0acf45c1213beb1fc52ce6`;
        for (const command of [
          { file: 'systemd-run', args: ['--scope', '/bin/sh', '-c', 'id'] },
          { file: 'systemd-run', args: ['--scope', 'mount.quobyte', '--disable-xattrs', '-o', mountPath] },
          { file: 'mount.quobyte', args: ['--disable-xattrs', 'registry/vol', '/etc'] },
          { file: 'umount', args: ['/'] },
          { file: 'umount', args: [mountPath, '/'] },
          { file: 'mount', args: ['-t', 'tmpfs', 'tmpfs', '/etc'] },
        ]) {
          expect(allowed(command), [command.file, ...command.args].join(' ')).to.equal(false);
        }
      });
    });
  });
});
