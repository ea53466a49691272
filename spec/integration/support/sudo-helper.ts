/**
 * `libvirt-volume-helper` installed the way an operator installs it, for suites that run it as
 * an unprivileged user (`nobody`) through `sudo -n`: a root-owned wrapper and configuration, and
 * a sudoers drop-in allowing that user the helper and nothing else.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
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
  writeFileSync(helper, `#!/bin/sh\ncd ${WORKTREE} || exit 125\nexec /usr/bin/env ${env} ${process.execPath} --import tsx lib/helper/main.ts --config ${config} "$@"\n`, { mode: 0o755 });
  writeFileSync(sudoers, `nobody ALL=(root) NOPASSWD: ${helper}\n`, { mode: 0o440 });
  expect(spawnSync('visudo', ['-cf', sudoers]).status).to.equal(0);
  return helper;
}
