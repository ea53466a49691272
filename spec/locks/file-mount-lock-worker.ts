/**
 * A child process for the lock tests. `hold DIR KEY`: takes the lock, prints `locked`, and waits
 * to be killed. `count DIR KEY FILE N`: N times, under the lock, reads a number from FILE, yields,
 * and writes it back plus one (a lost update shows when the lock does not exclude).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileMountLock } from '../../lib/locks/file-mount-lock.js';

const [mode, directory, key, file, countText] = process.argv.slice(2);
const lock = new FileMountLock(directory ?? '');
if (mode === 'hold') {
  await lock.withLock(key ?? '', async () => {
    process.stdout.write('locked\n');
    await sleep(600_000);
  });
} else {
  for (let index = 0; index < Number(countText); index += 1) {
    await lock.withLock(key ?? '', async () => {
      const value = Number(readFileSync(file ?? '', 'utf8'));
      await sleep(Math.random() * 2);
      writeFileSync(file ?? '', String(value + 1));
    });
  }
}
