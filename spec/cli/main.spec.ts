import { execFile } from 'node:child_process';
import { childEnv } from '../support/child-env.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url));
const LOG_FORKS = fileURLToPath(new URL('fixtures/log-forks.ts', import.meta.url));

/** The executable as a child process, through tsx, with its real streams and exit status. */
async function main(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: childEnv({ LIBVIRT_VOLUME_MOUNT_BASE: '' }) });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('main (the libvirt-volume executable)', () => {
  it('starts with a shebang, so npm can link it as a bin', () => {
    expect(readFileSync(MAIN, 'utf8').split('\n', 1)[0]).to.equal('#!/usr/bin/env node');
  });

  it('prints the version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await main('--version')).to.deep.equal({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('sets the exit status of a usage error', async () => {
    expect(await main('frobnicate')).to.deep.equal({ code: 2, stdout: '', stderr: "libvirt-volume: ERR_USAGE: unknown command 'frobnicate'\n" });
  });

  describe('the supervising child process', () => {
    /** Runs the executable with fork() reporting itself; resolves to how many children it started. */
    async function forks(...args: string[]): Promise<number> {
      const { stderr } = await run(process.execPath, ['--import', 'tsx', '--import', LOG_FORKS, MAIN, ...args], { env: childEnv({ LIBVIRT_VOLUME_MOUNT_BASE: '' }) }).catch((error: unknown) => error as { stderr: string });
      return stderr.split('\n').filter((line) => line === 'FORK').length;
    }

    it('is not started for config, --help or --version, which touch no mount', async () => {
      expect(await forks('config', '--export', 'reg/vol', '--name', 'volume-1', '--base', '/b')).to.equal(0);
      expect(await forks('--help')).to.equal(0);
      expect(await forks('--version')).to.equal(0);
    });

    it('is not started for status, whose probes run in killable children (see the hung-mount integration spec)', async () => {
      expect(await forks('status', '--base', '/nonexistent-base-for-spec')).to.equal(0);
    });

    it('is started for connect and disconnect, which touch the mount directory in process', async () => {
      // Their help is enough to see it: only the first argument decides.
      expect(await forks('disconnect', '--help')).to.equal(1);
      expect(await forks('connect', '--help')).to.equal(1);
    });
  });

  it('prints disk XML', async () => {
    const result = await main('config', '--export', 'quobyte://reg:7861/vol', '--name', 'volume-1', '--base', '/b');
    expect(result.code).to.equal(0);
    expect(result.stdout).to.match(/^<disk type="file" device="disk">\n[\s\S]*<source file="\/b\/[0-9a-f]{32}\/volume-1"\/>[\s\S]*<\/disk>\n$/);
  });
});
