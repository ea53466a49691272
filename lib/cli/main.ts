#!/usr/bin/env node
/**
 * The `libvirt-volume` executable: {@link runCli} on this process's arguments and streams. A
 * command that may look at a mount runs in a child process that is killed once it has reported
 * its exit status and cannot exit by itself (a thread still blocked on a hung FUSE mount); see
 * `supervise.ts`. The parent loads nothing but the supervisor, so it starts as fast as Node
 * does. `config`, `--help` and `--version` touch no mount and run here, without the second Node
 * start-up (see `needs-supervision.ts`).
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { needsSupervision } from './needs-supervision.js';
import { isSupervisedChild, reportExitCode, superviseChild } from './supervise.js';

const argv = process.argv.slice(2);

async function runHere(): Promise<number> {
  const { runCli } = await import('./run-cli.js');
  return runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
}

if (isSupervisedChild()) {
  await reportExitCode(await runHere());
} else if (!needsSupervision(argv)) {
  process.exitCode = await runHere();
} else {
  try {
    process.exitCode = await superviseChild(fileURLToPath(import.meta.url), argv);
  } catch (error) {
    // The child could not be started (out of memory or processes): do the work here instead.
    process.stderr.write(`libvirt-volume: running without a supervising process: ${(error as Error).message}\n`);
    process.exitCode = await runHere();
  }
}
