/**
 * The guides in docs/ against the code they describe: listings that must match files, CLI
 * options that must exist, and the one sudoers line for the privileged helper.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { DEFAULT_MOUNT_BASE, DEFAULT_STATE_FILE_NAME, MOUNT_BASE_ENV, STATE_ENV } from '../../lib/cli/cli-context.js';
import { HELPER_EXIT, helperCommands } from '../../lib/drivers/helper-commands.js';
import { runCaptured } from '../cli/cli-harness.js';

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
      for (const command of ['config', 'connect', 'disconnect', 'status', 'reconcile', 'repair']) {
        const { stdout } = await runCaptured([command, '--help']);
        for (const [option] of stdout.matchAll(/(?<![\w-])--[a-z][a-z-]+/g)) real.add(option);
      }
      real.delete('--help');
      expect([...documented].filter((option) => !real.has(option)), 'documented but unknown').to.deep.equal([]);
      expect([...real].filter((option) => !documented.has(option)), 'real but undocumented').to.deep.equal([]);
    });

    describe('the sudoers example', () => {
      const block = codeBlocks(guide, 'sudoers')[0] ?? '';
      const rules = block.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));

      it('is one line that allows the helper and nothing else (no per-command rules)', () => {
        expect(rules).to.deep.equal(['nova ALL=(root) NOPASSWD: /usr/local/bin/libvirt-volume-helper']);
      });

      it('names the program the driver example runs through sudo -n', () => {
        const prefix = ['sudo', '-n', '/usr/local/bin/libvirt-volume-helper'];
        expect(guide).to.contain(`privilegedHelper: ${JSON.stringify(prefix).replaceAll('"', "'").replaceAll(',', ', ')}`);
        const commands = helperCommands(prefix, '192.168.1.1/volume-00001');
        for (const command of [commands.mount, commands.unmount(true), commands.abort]) {
          expect(command.args.slice(0, 2)).to.deep.equal(['-n', '/usr/local/bin/libvirt-volume-helper']);
          expect(command.args.slice(2).some((arg) => arg.startsWith('/'))).to.equal(false);
        }
      });

      it('documents every exit status of the helper, and only those', () => {
        const documented = [...section(guide, 'Permissions').matchAll(/^\| (\d+) \|/gm)].map(([, status]) => Number(status));
        expect(documented).to.deep.equal(Object.values(HELPER_EXIT));
      });

      it('shows a configuration with only keys the helper knows', () => {
        const json = codeBlocks(guide, 'json').map((text) => JSON.parse(text) as Record<string, unknown>).find((value) => 'mountPointBase' in value);
        expect(Object.keys(json ?? {})).to.have.members(['mountPointBase', 'clientConfigFile', 'systemd']);
      });
    });
  });
});
