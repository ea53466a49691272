import { closeSync, openSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** `qemu-img <args>` in a folder (relative backing names are relative to it). */
export function qemuImgIn(directory: string, ...args: string[]): void {
  execFileSync('qemu-img', args, { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Overwrites bytes of a file in place (a header field qemu-img would not write). */
export function patchFile(path: string, offset: number, bytes: number[]): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}
