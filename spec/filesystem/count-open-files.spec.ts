import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { countOpenFilesUnder } from '../../lib/filesystem/count-open-files.js';

describe('countOpenFilesUnder()', () => {
  let root: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lvd-open-'));
    mkdirSync(join(root, 'share'));
    mkdirSync(join(root, 'share-other'));
    writeFileSync(join(root, 'share', 'disk'), 'x');
  });

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  /** A process that holds `file` open (as a guest holds its disk) until killed. */
  async function holder(args: string[], cwd?: string): Promise<void> {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'], ...(cwd === undefined ? {} : { cwd }) });
    children.push(child);
    await new Promise((resolve) => child.stdout.once('data', resolve));
  }

  it('is 0 when nobody holds anything there (this process is not counted)', async () => {
    expect(await countOpenFilesUnder(join(root, 'share'))).to.equal(0);
  });

  it('counts a process holding a file open under the path, not under a sibling with the same prefix', async () => {
    await holder(['-e', `require('fs').openSync(${JSON.stringify(join(root, 'share', 'disk'))}, 'r'); console.log('ok'); setInterval(() => {}, 1000)`]);
    expect(await countOpenFilesUnder(join(root, 'share'))).to.equal(1);
    expect(await countOpenFilesUnder(join(root, 'share-other'))).to.equal(0);
  });

  it('counts a process whose working directory is there', async () => {
    await holder(['-e', "console.log('ok'); setInterval(() => {}, 1000)"], join(root, 'share'));
    expect(await countOpenFilesUnder(join(root, 'share'))).to.equal(1);
  });
});
