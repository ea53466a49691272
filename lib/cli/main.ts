#!/usr/bin/env node
/**
 * The `libvirt-volume` executable: {@link runCli} on this process's arguments and streams, in
 * a child process that is killed once it has reported its exit status and cannot exit by itself
 * (a thread still blocked on a hung FUSE mount); see `supervise.ts`.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { runCli } from './run-cli.js';
import { isSupervisedChild, reportExitCode, superviseChild } from './supervise.js';

const argv = process.argv.slice(2);

if (isSupervisedChild()) {
  await reportExitCode(await runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env }));
} else {
  try {
    process.exitCode = await superviseChild(fileURLToPath(import.meta.url), argv);
  } catch (error) {
    // The child could not be started (no memory, no processes left): run here instead.
    process.stderr.write(`libvirt-volume: running without a supervising process: ${(error as Error).message}\n`);
    process.exitCode = await runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  }
}
