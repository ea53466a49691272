/**
 * A stand-in for a hung mount inside probe children. The children open images with
 * `O_NONBLOCK`, so a FIFO no longer blocks them; a hung FUSE mount still would (the kernel
 * waits for the client whatever the flags). This wrapper starts the children's Node with a
 * preload that opens any path ending `.hang` blocking, so a FIFO of that name blocks the
 * child's main thread as a hung mount's file does, until a writer opens it.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const HOOK = `'use strict';
const fs = require('node:fs');
const openSync = fs.openSync;
fs.openSync = function (path, flags, mode) {
  return openSync(path, String(path).endsWith('.hang') ? 'r' : flags, mode);
};
`;

/**
 * Writes the wrapper and its preload into `directory`.
 * @returns The path to pass as `execPath` of a `ProbeChildPool` (or `probeChildren.execPath`).
 */
export function hangingNode(directory: string): string {
  const hook = join(directory, 'hang-hook.cjs');
  const wrapper = join(directory, 'hanging-node');
  writeFileSync(hook, HOOK);
  writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' --require '${hook}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}
