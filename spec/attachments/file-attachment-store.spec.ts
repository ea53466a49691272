import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, promises as fsp, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { FileAttachmentStore } from '../../lib/attachments/file-attachment-store.js';
import { AttachmentStoreError } from '../../lib/errors.js';
import { FileMountLock } from '../../lib/locks/file-mount-lock.js';
import { childEnv } from '../support/child-env.js';
import { describeAttachmentStoreContract } from './attachment-store-contract.js';

use(chaiAsPromised);

const run = promisify(execFile);
const directories: string[] = [];
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

function freshDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'lvd-store-'));
  directories.push(directory);
  return directory;
}

function freshFile(): string {
  return join(freshDirectory(), 'attachments.json');
}

/** Every path under `folder` with its mode, owner and mtime: shows that nothing was written. */
function snapshot(folder: string): string[] {
  return [folder, ...readdirSync(folder, { recursive: true }).map((name) => join(folder, String(name)))].map((path) => {
    const stats = lstatSync(path);
    return `${path} ${stats.mode.toString(8)} ${stats.uid}:${stats.gid} ${stats.mtimeMs} ${stats.ctimeMs}`;
  });
}

after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

describeAttachmentStoreContract('FileAttachmentStore', () => new FileAttachmentStore(freshFile()));

describe('FileAttachmentStore', () => {
  describe('layout', () => {
    it('keeps one empty file per attachment in one folder per mount point, private, beside the path', async () => {
      const file = freshFile();
      await new FileAttachmentStore(file).add('/mnt/a', 'i1/v1');
      const record = `${file}.d/%2Fmnt%2Fa/i1%2Fv1`;
      expect(statSync(record).size).to.equal(0);
      expect(statSync(record).mode & 0o777).to.equal(0o600);
      expect(statSync(`${file}.d`).mode & 0o777).to.equal(0o700);
      expect(statSync(`${file}.d/%2Fmnt%2Fa`).mode & 0o777).to.equal(0o700);
      expect(readFileSync(`${file}.d/.format`, 'utf8')).to.equal('libvirt-volume-driver attachment store 2\n');
      expect(readdirSync(join(file, '..')).sort()).to.deep.equal(['attachments.json.d']);
      expect(readdirSync(`${file}.d`).sort()).to.deep.equal(['%2Fmnt%2Fa', '.format', '.locks']);
    });

    it('keeps attachments across instances (an agent restart)', async () => {
      const file = freshFile();
      await new FileAttachmentStore(file).add('/mnt/a', 'i1/v1');
      expect(await new FileAttachmentStore(file).list('/mnt/a')).to.deep.equal(['i1/v1']);
    });

    it('sees another instance’s changes at once (no cache)', async () => {
      const file = freshFile();
      const [one, two] = [new FileAttachmentStore(file), new FileAttachmentStore(file)];
      await one.add('/mnt/a', 'i1/v1');
      expect(await two.has('/mnt/a', 'i1/v1')).to.be.true;
      expect(await two.add('/mnt/a', 'i2/v2')).to.equal(2);
      expect(await one.remove('/mnt/a', 'i1/v1')).to.equal(1);
      expect(await two.has('/mnt/a', 'i1/v1')).to.be.false;
    });

    it('drops the folder of a mount point whose last attachment goes', async () => {
      const file = freshFile();
      const store = new FileAttachmentStore(file);
      await store.add('/mnt/a', 'i1/v1');
      await store.remove('/mnt/a', 'i1/v1');
      expect(existsSync(`${file}.d/%2Fmnt%2Fa`)).to.be.false;
    });

    it('writes nothing for a repeated add, a check or an unknown remove', async () => {
      const file = freshFile();
      const store = new FileAttachmentStore(file);
      await store.add('/mnt/a', 'i1/v1');
      const before = snapshot(`${file}.d`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await store.add('/mnt/a', 'i1/v1')).to.equal(1);
      expect(await store.has('/mnt/a', 'i1/v1')).to.be.true;
      expect(await store.remove('/mnt/a', 'i9/v9')).to.equal(1);
      expect(await store.remove('/mnt/b', 'i9/v9')).to.equal(0);
      expect(snapshot(`${file}.d`)).to.deep.equal(before);
    });

    it('creates nothing when only read, not even a missing parent folder', async () => {
      const directory = freshDirectory();
      const store = new FileAttachmentStore(join(directory, 'missing', 'attachments.json'));
      expect(await store.has('/mnt/a', 'i1/v1')).to.be.false;
      expect((await store.entries()).size).to.equal(0);
      expect(await store.remove('/mnt/a', 'i1/v1')).to.equal(0);
      expect(readdirSync(directory)).to.deep.equal([]);
    });

    it('creates a missing parent folder with mode 0700', async () => {
      const directory = freshDirectory();
      await new FileAttachmentStore(join(directory, 'state', 'deeper', 'attachments.json')).add('/mnt/a', 'i1/v1');
      expect(statSync(join(directory, 'state')).mode & 0o777).to.equal(0o700);
      expect(statSync(join(directory, 'state', 'deeper')).mode & 0o777).to.equal(0o700);
    });

    it('shares its mount lock with every instance on the same path', async () => {
      const file = freshFile();
      const [one, two] = [new FileAttachmentStore(file), new FileAttachmentStore(file)];
      expect(one.mountLock).to.be.instanceOf(FileMountLock);
      const order: string[] = [];
      await Promise.all(
        [one, two].map((store, n) =>
          store.mountLock.withLock('/mnt/a', async () => {
            order.push(`in ${n}`);
            await new Promise((resolve) => setTimeout(resolve, 20));
            order.push(`out ${n}`);
          }),
        ),
      );
      expect(order.join()).to.match(/^in (\d),out \1,in (\d),out \2$/);
      expect(readdirSync(`${file}.d/.locks`)).to.deep.equal([]);
    });

    it('refuses a mount path or id that cannot be a file name, writing nothing', async () => {
      const file = freshFile();
      const store = new FileAttachmentStore(file);
      await expect(store.add('', 'i1/v1')).to.be.rejectedWith(TypeError, /mountPath/);
      await expect(store.add('/mnt/a', 'x'.repeat(300))).to.be.rejectedWith(TypeError, /attachmentId/);
      expect(existsSync(`${file}.d`)).to.be.false;
    });

    it('throws TypeError for an empty path', () => {
      expect(() => new FileAttachmentStore('')).to.throw(TypeError);
    });
  });

  describe('reading the whole store', () => {
    /** A store of `count` mount points written straight into its folder (fast), one attachment each. */
    async function bigStore(count: number): Promise<FileAttachmentStore> {
      const store = new FileAttachmentStore(freshFile());
      await store.add('/b/seed', 'g/seed');
      const folder = `${store.filePath}.d`;
      for (let index = 0; index < count; index += 1) {
        mkdirSync(join(folder, `%2Fb%2Fm${index}`));
        writeFileSync(join(folder, `%2Fb%2Fm${index}`, `g%2F${index}`), '');
      }
      return store;
    }

    it('scan() yields what entries() holds, mount point by mount point', async () => {
      const store = new FileAttachmentStore(freshFile());
      await store.add('/b/one', 'g/1');
      await store.add('/b/one', 'g/2');
      await store.add('/b/two', 'g/3');
      const scanned = new Map<string, string[]>();
      for await (const [mountPath, ids] of store.scan()) scanned.set(mountPath, ids);
      expect(scanned).to.deep.equal(new Map([['/b/one', ['g/1', 'g/2']], ['/b/two', ['g/3']]]));
      expect(await store.entries()).to.deep.equal(scanned);
    });

    it('lets the event loop run while it reads thousands of mount points, never holding it up for long', async function () {
      this.timeout(60_000);
      const store = await bigStore(4_000);
      let ticks = 0;
      let longestGap = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        longestGap = Math.max(longestGap, now - last);
        last = now;
        ticks += 1;
      }, 1);
      const started = performance.now();
      const table = await store.entries();
      const elapsed = performance.now() - started;
      clearInterval(timer);
      expect(table.size).to.equal(4_001);
      expect(table.get('/b/m3999')).to.deep.equal(['g/3999']);
      // It took long enough to need yielding, and the loop ran all along.
      expect(ticks, `${elapsed.toFixed(0)} ms`).to.be.above(Math.min(10, elapsed / 20));
      expect(longestGap).to.be.below(Math.max(100, elapsed / 2));
    });

    it('stops reading, and lets go of the folder, when its reader stops early', async () => {
      const store = await bigStore(50);
      let seen = 0;
      for await (const entry of store.scan()) {
        expect(entry[1]).to.have.length(1);
        seen += 1;
        if (seen === 3) break;
      }
      expect(seen).to.equal(3);
      expect((await store.entries()).size).to.equal(51);
    });
  });

  describe('migration from the JSON file', () => {
    it('merges the JSON file into the folder on first use and renames it *.v1-migrated', async () => {
      const file = freshFile();
      const json = '{"version": 1, "mounts": {"/mnt/a": ["i1/v1", "i2/v2"], "/mnt/b": ["i3/v3"]}}';
      writeFileSync(file, json, { mode: 0o640 });
      const store = new FileAttachmentStore(file);
      expect(await store.has('/mnt/a', 'i2/v2')).to.be.true;
      expect(Object.fromEntries(await store.entries())).to.deep.equal({ '/mnt/a': ['i1/v1', 'i2/v2'], '/mnt/b': ['i3/v3'] });
      expect(existsSync(file)).to.be.false;
      expect(readFileSync(`${file}.v1-migrated`, 'utf8')).to.equal(json);
      // The folder takes the file's mode, with search bits where it could be read.
      expect(statSync(`${file}.d`).mode & 0o777).to.equal(0o750);
      expect(statSync(`${file}.d/%2Fmnt%2Fa/i1%2Fv1`).mode & 0o777).to.equal(0o640);
    });

    it('merges a JSON file found beside an existing folder (a union: nothing recorded is lost)', async () => {
      const file = freshFile();
      await new FileAttachmentStore(file).add('/mnt/a', 'i1/v1');
      writeFileSync(file, '{"version": 1, "mounts": {"/mnt/a": ["i2/v2"]}}');
      expect(await new FileAttachmentStore(file).list('/mnt/a')).to.deep.equal(['i1/v1', 'i2/v2']);
    });

    for (const [what, content] of [['not JSON', '{"version": 1, "mounts": {'], ['the wrong shape', '{"version": 1, "mounts": {"/mnt/a": "i1"}}'], ['another version', '{"version": 2, "mounts": {}}'], ['without mounts', '{"version": 1, "mounts": null}'], ['unfit for file names', '{"version": 1, "mounts": {"": ["i1"]}}']] as const) {
      it(`refuses a JSON file that is ${what}, naming it, and leaves it untouched`, async () => {
        const file = freshFile();
        await fsp.writeFile(file, content);
        const store = new FileAttachmentStore(file);
        const error = await store.add('/mnt/a', 'i1/v1').then(() => undefined, (e: unknown) => e);
        expect(error).to.be.instanceOf(AttachmentStoreError);
        expect((error as AttachmentStoreError).code).to.equal('ERR_ATTACHMENT_STORE');
        expect((error as AttachmentStoreError).message).to.contain(file);
        await expect(store.list('/mnt/a')).to.be.rejectedWith(AttachmentStoreError);
        await expect(store.has('/mnt/a', 'i1/v1')).to.be.rejectedWith(AttachmentStoreError);
        expect(await fsp.readFile(file, 'utf8')).to.equal(content);
        expect(existsSync(`${file}.d/%2Fmnt%2Fa`)).to.be.false;
      });
    }
  });

  describe('corrupt folder', () => {
    for (const [what, plant] of [
      ['a name it did not write', (folder: string) => { writeFileSync(join(folder, 'i%ZZ'), ''); }],
      ['a link where a record belongs', (folder: string) => { symlinkSync('/etc/passwd', join(folder, 'i9%2Fv9')); }],
      ['a folder where a record belongs', (folder: string) => { mkdirSync(join(folder, 'i9%2Fv9')); }],
    ] as const) {
      it(`refuses ${what}, naming it, and removes nothing`, async () => {
        const file = freshFile();
        const store = new FileAttachmentStore(file);
        await store.add('/mnt/a', 'i1/v1');
        plant(`${file}.d/%2Fmnt%2Fa`);
        const before = snapshot(`${file}.d`);
        await expect(store.list('/mnt/a')).to.be.rejectedWith(AttachmentStoreError, /corrupt \(unexpected entry .*%2Fmnt%2Fa\//);
        await expect(store.entries()).to.be.rejectedWith(AttachmentStoreError, /corrupt/);
        await expect(store.remove('/mnt/a', 'i1/v1')).to.be.rejectedWith(AttachmentStoreError, /corrupt/);
        // An add is taken back: the record is not left half-made beside the foreign entry.
        await expect(store.add('/mnt/a', 'i2/v2')).to.be.rejectedWith(AttachmentStoreError, /corrupt/);
        expect(snapshot(`${file}.d`).filter((line) => !line.startsWith(`${file}.d `) && !line.startsWith(`${file}.d/%2Fmnt%2Fa `))).to.deep.equal(
          before.filter((line) => !line.startsWith(`${file}.d `) && !line.startsWith(`${file}.d/%2Fmnt%2Fa `)),
        );
      });
    }

    it('refuses a mount-point entry it did not write', async () => {
      const file = freshFile();
      const store = new FileAttachmentStore(file);
      await store.add('/mnt/a', 'i1/v1');
      writeFileSync(`${file}.d/stray`, 'x');
      await expect(store.entries()).to.be.rejectedWith(AttachmentStoreError, /stray/);
      expect(readFileSync(`${file}.d/stray`, 'utf8')).to.equal('x');
    });

    it('refuses a folder of another format', async () => {
      const file = freshFile();
      mkdirSync(`${file}.d`);
      writeFileSync(`${file}.d/.format`, 'something else 9\n');
      await expect(new FileAttachmentStore(file).add('/mnt/a', 'i1/v1')).to.be.rejectedWith(AttachmentStoreError, /unknown format/);
      expect(readdirSync(`${file}.d`)).to.deep.equal(['.format']);
    });

    it('reports a path it cannot read (a folder in the file’s place) as AttachmentStoreError', async () => {
      const file = freshFile();
      await fsp.mkdir(file);
      await expect(new FileAttachmentStore(file).list('/mnt/a')).to.be.rejectedWith(AttachmentStoreError, /Cannot read/);
    });
  });

  describe('a linked path', () => {
    it('resolves a link once, so the link and its target share one store', async () => {
      const directory = freshDirectory();
      const target = join(directory, 'real.json');
      const link = join(directory, 'link.json');
      writeFileSync(target, '{"version": 1, "mounts": {"/mnt/a": ["i1/v1"]}}');
      symlinkSync(target, link);
      await new FileAttachmentStore(link).add('/mnt/a', 'i2/v2');
      expect(await new FileAttachmentStore(target).list('/mnt/a')).to.deep.equal(['i1/v1', 'i2/v2']);
      // The link was never replaced by a file.
      expect(lstatSync(link).isSymbolicLink()).to.be.true;
      expect(existsSync(`${link}.d`)).to.be.false;
    });

    it('resolves a linked parent folder', async () => {
      const directory = freshDirectory();
      mkdirSync(join(directory, 'real'));
      symlinkSync(join(directory, 'real'), join(directory, 'via'));
      await new FileAttachmentStore(join(directory, 'via', 'a.json')).add('/mnt/a', 'i1/v1');
      expect(await new FileAttachmentStore(join(directory, 'real', 'a.json')).list('/mnt/a')).to.deep.equal(['i1/v1']);
    });

    it('follows a link to a file not made yet (the records live beside it), and keeps doing so after a migration', async () => {
      const directory = freshDirectory();
      mkdirSync(join(directory, 'shared'));
      symlinkSync(join(directory, 'shared', 'store.json'), join(directory, 'link.json'));
      await new FileAttachmentStore(join(directory, 'link.json')).add('/mnt/a', 'i1/v1');
      expect(await new FileAttachmentStore(join(directory, 'shared', 'store.json')).list('/mnt/a')).to.deep.equal(['i1/v1']);
      expect(readdirSync(directory).sort()).to.deep.equal(['link.json', 'shared']);
      // A first-format target is renamed away once migrated: the link still leads to the store.
      const migrated = join(directory, 'old.json');
      writeFileSync(migrated, '{"version": 1, "mounts": {"/mnt/b": ["i2/v2"]}}');
      symlinkSync(migrated, join(directory, 'old-link.json'));
      await new FileAttachmentStore(join(directory, 'old-link.json')).add('/mnt/b', 'i3/v3');
      expect(existsSync(migrated)).to.be.false;
      expect(await new FileAttachmentStore(join(directory, 'old-link.json')).list('/mnt/b')).to.deep.equal(['i2/v2', 'i3/v3']);
    });

    it('refuses a link into a folder that does not exist, or a loop of links, creating nothing', async () => {
      const directory = freshDirectory();
      symlinkSync(join(directory, 'missing', 'store.json'), join(directory, 'link.json'));
      symlinkSync(join(directory, 'loop-b.json'), join(directory, 'loop-a.json'));
      symlinkSync(join(directory, 'loop-a.json'), join(directory, 'loop-b.json'));
      for (const name of ['link.json', 'loop-a.json']) {
        await expect(new FileAttachmentStore(join(directory, name)).add('/mnt/a', 'i1/v1')).to.be.rejectedWith(AttachmentStoreError, /link that leads nowhere/);
      }
      expect(readdirSync(directory).sort()).to.deep.equal(['link.json', 'loop-a.json', 'loop-b.json']);
    });
  });

  describe('ownership', () => {
    before(function () {
      if (!isRoot) {
        if (process.env['CI'] === 'true') throw new Error('these tests need root in CI');
        this.skip(); // chown needs root; run as root to check that a root CLI keeps the agent's ownership
      }
    });

    function asNobody(script: string): { status: number | null; stderr: string } {
      const result = spawnSync('/bin/sh', ['-c', script], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
      return { status: result.status, stderr: result.stderr };
    }

    it('gives what root adds to an agent-owned store the agent’s owner, so the agent can still change it', async () => {
      const directory = freshDirectory();
      chmodSync(directory, 0o755);
      const file = join(directory, 'attachments.json');
      writeFileSync(file, '{"version": 1, "mounts": {}}', { mode: 0o600 });
      chownSync(file, NOBODY, NOBODY);
      await new FileAttachmentStore(file).add('/mnt/a', 'i1/v1');
      await new FileAttachmentStore(file).mountLock.withLock('/mnt/a', async () => {
        for (const name of readdirSync(`${file}.d/.locks`)) expect(statSync(`${file}.d/.locks/${name}`).uid).to.equal(NOBODY);
        return Promise.resolve();
      });
      for (const path of [`${file}.d`, `${file}.d/.format`, `${file}.d/.locks`, `${file}.d/%2Fmnt%2Fa`, `${file}.d/%2Fmnt%2Fa/i1%2Fv1`]) {
        const stats = statSync(path);
        expect([path, stats.uid, stats.gid, stats.mode & 0o777]).to.deep.equal([path, NOBODY, NOBODY, stats.isDirectory() ? 0o700 : 0o600]);
      }
      // The agent (nobody) can record and remove attachments beside root's.
      const folder = `${file}.d/%2Fmnt%2Fa`;
      expect(asNobody(`touch '${folder}/i2%2Fv2' && rm '${folder}/i1%2Fv1' && mkdir '${file}.d/%2Fmnt%2Fb'`)).to.deep.equal({ status: 0, stderr: '' });
    });

    it('initialises an empty folder an operator pre-created for an agent in a root-owned base, in place, as the agent', async () => {
      const base = freshDirectory();
      chmodSync(base, 0o755);
      const file = join(base, 'attachments.json');
      mkdirSync(`${file}.d`, { mode: 0o700 });
      chownSync(`${file}.d`, NOBODY, NOBODY);
      // Read first: an empty store, nothing written.
      const module = fileURLToPath(new URL('../../lib/attachments/file-attachment-store.ts', import.meta.url));
      const agent = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { FileAttachmentStore } from ${JSON.stringify(module)}; const store = new FileAttachmentStore(${JSON.stringify(file)}); console.log((await store.entries()).size); await store.add('/mnt/a', 'i1/v1'); await store.mountLock.withLock('/mnt/a', async () => {});`], {
        uid: NOBODY, gid: NOBODY, cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', env: childEnv(), timeout: 60_000,
      });
      expect(agent.status, agent.stderr).to.equal(0);
      expect(agent.stdout.trim()).to.equal('0');
      expect(readdirSync(`${file}.d`).sort()).to.deep.equal(['%2Fmnt%2Fa', '.format', '.locks']);
      expect(statSync(`${file}.d/.format`).uid).to.equal(NOBODY);
      expect([...(await new FileAttachmentStore(file).entries())]).to.deep.equal([['/mnt/a', ['i1/v1']]]);
    });

    it('initialises an empty agent-owned folder as root with the agent as owner', async () => {
      const file = join(freshDirectory(), 'attachments.json');
      mkdirSync(`${file}.d`, { mode: 0o750 });
      chownSync(`${file}.d`, NOBODY, NOBODY);
      await new FileAttachmentStore(file).add('/mnt/a', 'i1/v1');
      for (const path of [`${file}.d/.format`, `${file}.d/.locks`, `${file}.d/%2Fmnt%2Fa`]) expect(statSync(path).uid, path).to.equal(NOBODY);
      expect(statSync(`${file}.d/.locks`).mode & 0o777).to.equal(0o750);
    });

    it('keeps the owner and mode of an existing store folder', async () => {
      const directory = freshDirectory();
      const file = join(directory, 'attachments.json');
      await new FileAttachmentStore(file).add('/mnt/a', 'i1/v1');
      chownSync(`${file}.d`, NOBODY, NOBODY);
      chmodSync(`${file}.d`, 0o750);
      await new FileAttachmentStore(file).add('/mnt/b', 'i1/v1');
      const stats = statSync(`${file}.d`);
      expect([stats.uid, stats.mode & 0o777]).to.deep.equal([NOBODY, 0o750]);
      expect(statSync(`${file}.d/%2Fmnt%2Fb`).uid).to.equal(NOBODY);
      expect(statSync(`${file}.d/%2Fmnt%2Fb`).mode & 0o777).to.equal(0o750);
      expect(statSync(`${file}.d/%2Fmnt%2Fb/i1%2Fv1`).mode & 0o777).to.equal(0o640);
    });
  });

  describe('across processes', () => {
    it('loses no update: 4 processes × 150 random adds and removes on 3 shared mount points', async function () {
      this.timeout(120_000);
      const file = freshFile();
      const worker = fileURLToPath(new URL('./file-attachment-store-worker.ts', import.meta.url));
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map(async (name) => {
          const { stdout } = await run(process.execPath, ['--import', 'tsx', worker, file, name, '150', '3'], { env: childEnv() });
          return JSON.parse(stdout) as [string, string][];
        }),
      );
      const expected = new Map<string, string[]>();
      for (const [id, mountPath] of results.flat()) expected.set(mountPath, [...(expected.get(mountPath) ?? []), id].sort());
      const actual = await new FileAttachmentStore(file).entries();
      expect(Object.fromEntries(actual)).to.deep.equal(Object.fromEntries(expected));
    });
  });
});
