import { execFile } from 'node:child_process';
import { mkdtempSync, promises as fsp, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { FileAttachmentStore } from '../../lib/attachments/file-attachment-store.js';
import { AttachmentStoreError } from '../../lib/errors.js';
import { describeAttachmentStoreContract } from './attachment-store-contract.js';

use(chaiAsPromised);

const run = promisify(execFile);
const directories: string[] = [];

function freshFile(): string {
  const directory = mkdtempSync(join(tmpdir(), 'lvd-store-'));
  directories.push(directory);
  return join(directory, 'attachments.json');
}

after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

describeAttachmentStoreContract('FileAttachmentStore', () => new FileAttachmentStore(freshFile()));

describe('FileAttachmentStore', () => {
  it('keeps attachments across instances (an agent restart)', async () => {
    const file = freshFile();
    await new FileAttachmentStore(file).add('/mnt/a', 'i1/v1');
    expect(await new FileAttachmentStore(file).list('/mnt/a')).to.deep.equal(['i1/v1']);
  });

  it('writes the file with mode 0600 and leaves no temporary file behind', async () => {
    const file = freshFile();
    await new FileAttachmentStore(file).add('/mnt/a', 'i1/v1');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const names = await fsp.readdir(join(file, '..'));
    expect(names).to.deep.equal(['attachments.json']);
    expect(JSON.parse(await fsp.readFile(file, 'utf8'))).to.deep.equal({ version: 1, mounts: { '/mnt/a': ['i1/v1'] } });
  });

  for (const [what, content] of [['not JSON', '{"version": 1, "mounts": {'], ['the wrong shape', '{"version": 1, "mounts": {"/mnt/a": "i1"}}'], ['another version', '{"version": 2, "mounts": {}}'], ['without mounts', '{"version": 1, "mounts": null}']] as const) {
    it(`refuses a file that is ${what}, naming it, and leaves it untouched`, async () => {
      const file = freshFile();
      await fsp.writeFile(file, content);
      const store = new FileAttachmentStore(file);
      const error = await store.add('/mnt/a', 'i1/v1').then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(AttachmentStoreError);
      expect((error as AttachmentStoreError).code).to.equal('ERR_ATTACHMENT_STORE');
      expect((error as AttachmentStoreError).message).to.contain(file);
      await expect(store.list('/mnt/a')).to.be.rejectedWith(AttachmentStoreError);
      expect(await fsp.readFile(file, 'utf8')).to.equal(content);
    });
  }

  it('loses no update when two processes write at once (2 × 200 updates)', async function () {
    this.timeout(120_000);
    const file = freshFile();
    const worker = fileURLToPath(new URL('./file-attachment-store-worker.ts', import.meta.url));
    const count = 200;
    await Promise.all(['a', 'b'].map((name) => run(process.execPath, ['--import', 'tsx', worker, file, name, String(count)])));
    const ids = await new FileAttachmentStore(file).list('/mnt/shared');
    // Each worker keeps its odd-numbered ids: 100 each, and nothing else.
    const expected = ['a', 'b'].flatMap((name) => Array.from({ length: count / 2 }, (_, index) => `${name}-${index * 2 + 1}`));
    expect([...ids].sort()).to.deep.equal(expected.sort());
  });

  it('throws TypeError for an empty path', () => {
    expect(() => new FileAttachmentStore('')).to.throw(TypeError);
  });
});

describe('FileAttachmentStore failures', () => {
  it('reports a file it cannot read (a directory in its place) as AttachmentStoreError', async () => {
    const file = freshFile();
    await fsp.mkdir(file);
    await expect(new FileAttachmentStore(file).list('/mnt/a')).to.be.rejectedWith(AttachmentStoreError, /Cannot read/);
  });
});
