import { closeSync, openSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** `qemu-img <args>` in a folder (relative backing names are relative to it). */
export function qemuImgIn(directory: string, ...args: string[]): void {
  // LUKS key setup times PBKDF2 by CPU time; on a loaded machine qemu-img can fail with "Unable to
  // get accurate CPU usage". That is qemu-img measuring, not the image: try again.
  for (let attempt = 1; ; attempt += 1) {
    try {
      execFileSync('qemu-img', args, { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] });
      return;
    } catch (error) {
      if (attempt >= 5 || !String((error as { stderr?: unknown }).stderr).includes('accurate CPU usage')) throw error;
    }
  }
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
