/**
 * The program a probe child runs (`node -e`): it reads requests from stdin and answers each on
 * stdout, one at a time, with synchronous calls. So a call stuck on a hung FUSE mount blocks
 * only this child's main thread, and `SIGKILL` ends it (a FUSE request not yet read by the
 * client is abandoned at a fatal signal).
 *
 * Kept as CommonJS source in a string so it runs the same from `dist/` and from the TypeScript
 * sources, with no file to locate at run time. See `ProbeChildPool` for the protocol.
 *
 * @module
 */

/** The child's source; its protocol is in `probe-child-protocol.ts`. */
export const PROBE_CHILD_SCRIPT = `'use strict';
const fs = require('node:fs');
const { StringDecoder } = require('node:string_decoder');
const decoder = new StringDecoder('utf8'); // a character may span two reads
const input = Buffer.alloc(65536);
const idle = new Int32Array(new SharedArrayBuffer(4));
let rest = '';

function send(message) {
  const bytes = Buffer.from(JSON.stringify(message) + '\\n');
  let written = 0;
  while (written < bytes.length) written += fs.writeSync(1, bytes, written);
}

function describe(s) {
  return { size: s.size, mode: s.mode, uid: s.uid, gid: s.gid, dev: s.dev, ino: s.ino,
    isFile: s.isFile(), isDirectory: s.isDirectory(), isSymbolicLink: s.isSymbolicLink() };
}

function wire(error) {
  const e = error instanceof Error ? error : new Error(String(error));
  return { code: e.code, message: e.message, errno: e.errno, syscall: e.syscall, path: e.path };
}

function runBatch(calls) {
  const answers = [];
  for (const call of calls) {
    try {
      if (call.op !== 'stat' && call.op !== 'lstat' && call.op !== 'read') throw Object.assign(new Error('EINVAL: not a batch call ' + String(call.op)), { code: 'EINVAL' });
      const value = run(call);
      // Not the device expected: the mount is gone or replaced, so what is under it is not ours.
      if (call.dev !== undefined && value.dev !== call.dev) throw Object.assign(new Error('EXDEV: ' + call.path + ' is not on device ' + call.dev), { code: 'EXDEV', path: call.path });
      answers.push({ ok: value });
    } catch (error) {
      answers.push({ error: wire(error) });
      break;
    }
  }
  return answers;
}

function run(request) {
  switch (request.op) {
    case 'batch': return runBatch(request.calls);
    case 'stat': return describe(fs.statSync(request.path));
    case 'lstat': return describe(fs.lstatSync(request.path));
    case 'realpath': return fs.realpathSync(request.path);
    case 'access': fs.accessSync(request.path, request.mode); return true;
    case 'mkdir': fs.mkdirSync(request.path, { recursive: true }); return true;
    case 'rmdir': fs.rmdirSync(request.path); return true;
    case 'read': {
      // Never through a final link, never blocked by a FIFO or a device swapped in after the
      // caller's lstat (a hung mount still blocks: that is what the child is killed for).
      const fd = fs.openSync(request.path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
      try {
        const buffer = Buffer.alloc(request.length);
        const count = fs.readSync(fd, buffer, 0, request.length, request.position);
        return buffer.toString('base64', 0, count);
      } finally {
        fs.closeSync(fd);
      }
    }
    default: throw Object.assign(new Error('EINVAL: unknown probe operation ' + String(request.op)), { code: 'EINVAL' });
  }
}

function answer(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    process.exit(3);
  }
  try {
    send({ id: request.id, ok: run(request) });
  } catch (error) {
    send({ id: request.id, error: wire(error) });
  }
}

send({ ready: process.pid });
for (;;) {
  let count;
  try {
    count = fs.readSync(0, input, 0, input.length, null);
  } catch (error) {
    // A non-blocking stdin would spin: wait a moment instead.
    if (error.code === 'EAGAIN' || error.code === 'EINTR') { Atomics.wait(idle, 0, 0, 1); continue; }
    process.exit(2);
  }
  if (count === 0) process.exit(0); // the parent closed the pipe or is gone
  const lines = (rest + decoder.write(input.subarray(0, count))).split('\\n');
  rest = lines.pop();
  for (const line of lines) if (line !== '') answer(line);
}
`;
