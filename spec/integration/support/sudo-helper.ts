/**
 * `libvirt-volume-helper` installed the way an operator installs it, for suites that run it as
 * an unprivileged user (`nobody`) through `sudo -n`: a root-owned wrapper and configuration, and
 * a sudoers drop-in allowing that user the helper and nothing else.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { FIXTURE_BIN, type RealHost } from './real-host.js';

const WORKTREE = fileURLToPath(new URL('../../../', import.meta.url));

/** Skips (or fails in CI) a suite when sudo, setpriv or visudo is missing. */
export function requireSudoTools(context: Mocha.Context): void {
  for (const tool of ['sudo', 'setpriv', 'visudo']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      if (process.env.CI === 'true') throw new Error(`${tool} is not installed`);
      context.skip();
    }
  }
}

let bundled: string | undefined;

/**
 * How to start the helper from this worktree: lib/helper/main.ts bundled once per test process
 * by esbuild (tsx's own), into node_modules/.cache so its packages resolve, because a start
 * through tsx costs a second or more on a busy host and the agent pass starts it hundreds of
 * times; through tsx when esbuild is not there.
 */
function helperProgram(): string[] {
  const esbuild = join(WORKTREE, 'node_modules/.bin/esbuild');
  if (bundled === undefined && existsSync(esbuild)) {
    const out = join(WORKTREE, 'node_modules/.cache', `lvd-it-helper-${process.pid}.mjs`);
    if (spawnSync(esbuild, ['lib/helper/main.ts', '--bundle', '--platform=node', '--format=esm', `--outfile=${out}`, '--log-level=error'], { cwd: WORKTREE, stdio: 'inherit' }).status === 0) {
      bundled = out;
      process.on('exit', () => { rmSync(out, { force: true }); });
    }
  }
  return bundled === undefined ? [process.execPath, '--import', 'tsx', 'lib/helper/main.ts'] : [process.execPath, bundled];
}

/**
 * Writes `<root>/etc/helper.json` (base: the host's) and `<root>/etc/libvirt-volume-helper`
 * (it runs the helper from this worktree; sudo resets the environment, so the stand-in's is
 * set here, not by the caller), and the drop-in allowing `nobody` only that file.
 * @returns The helper's path.
 */
export function installHelper(host: RealHost, sudoers: string): string {
  const etc = join(host.root, 'etc');
  mkdirSync(etc, { mode: 0o755 });
  const config = join(etc, 'helper.json');
  writeFileSync(config, JSON.stringify({ mountPointBase: host.mountBase, systemd: false }), { mode: 0o644 });
  const helper = join(etc, 'libvirt-volume-helper');
  const env = `PATH=${FIXTURE_BIN}:/usr/sbin:/usr/bin:/sbin:/bin QUOBYTE_STANDIN_ROOT=${host.backing} QUOBYTE_STANDIN_STATE=${host.state}`;
  // Extra stand-in settings of a test (a failing or slow client): root's file beside it, read here.
  const extra = join(etc, 'standin.env');
  const program = helperProgram().join(' ');
  writeFileSync(helper, `#!/bin/sh\ncd ${WORKTREE} || exit 125\nif [ -r ${extra} ]; then set -a; . ${extra}; set +a; fi\nexec /usr/bin/env ${env} NODE_V8_COVERAGE= ${program} --config ${config} "$@"\n`, { mode: 0o755 });
  writeFileSync(sudoers, `nobody ALL=(root) NOPASSWD: ${helper}\n`, { mode: 0o440 });
  expect(spawnSync('visudo', ['-cf', sudoers]).status).to.equal(0);
  return helper;
}

/** Sets the stand-in's extra environment for what the helper mounts next (an empty one clears it). */
export function setHelperStandInEnv(host: RealHost, env: Record<string, string>): void {
  const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
  writeFileSync(join(host.root, 'etc', 'standin.env'), Object.entries(env).map(([key, value]) => `${key}=${quote(value)}\n`).join(''), { mode: 0o644 });
}
