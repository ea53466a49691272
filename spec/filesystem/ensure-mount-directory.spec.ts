import { chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { InsecureMountBaseError } from '../../lib/errors.js';
import type { MountBaseOptions } from '../../lib/filesystem/check-mount-base.js';
import { ensureMountDirectory } from '../../lib/filesystem/ensure-mount-directory.js';
import { requireRoot } from '../support/require-root.js';

use(chaiAsPromised);

describe('ensureMountDirectory()', () => {
  const me = { agentUid: process.getuid?.() ?? 0 };
  const NAME = 'c94ed34ada0acf45c1213beb1fc52ce6';
  let root: string;
  let base: string;
  let victim: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lvd-dir-'));
    base = join(root, 'mnt');
    victim = join(root, 'victim');
    mkdirSync(base);
    mkdirSync(victim);
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const refused = async (pattern: RegExp, options: MountBaseOptions = me): Promise<void> => {
    const error = await ensureMountDirectory(base, NAME, options).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(InsecureMountBaseError).with.property('code', 'ERR_INSECURE_MOUNT_BASE');
    expect((error as Error).message).to.match(pattern);
  };

  it('creates <base>/<name> with mode 0755 and returns it; again, it keeps it', async () => {
    expect(await ensureMountDirectory(base, NAME, me)).to.equal(join(base, NAME));
    const { mode } = lstatSync(join(base, NAME));
    expect([mode & 0o700, mode & 0o022]).to.deep.equal([0o700, 0]);
    expect(await ensureMountDirectory(base, NAME, me)).to.equal(join(base, NAME));
  });

  it('refuses a planted link to a directory without following it', async () => {
    symlinkSync(victim, join(base, NAME));
    await refused(/symbolic link/);
    expect(lstatSync(join(base, NAME)).isSymbolicLink()).to.be.true;
    expect(readdirSync(victim)).to.deep.equal([]);
  });

  it('refuses a dangling link and creates nothing where it points', async () => {
    symlinkSync(join(victim, 'new'), join(base, NAME));
    await refused(/symbolic link/);
    expect(readdirSync(victim)).to.deep.equal([]);
  });

  it('refuses a file in its place', async () => {
    writeFileSync(join(base, NAME), '');
    await refused(/not a directory/);
  });

  it('refuses when the base given is a link (the directory is then not directly under it)', async () => {
    symlinkSync(victim, join(root, 'alias'));
    const error = await ensureMountDirectory(join(root, 'alias'), NAME, me).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(InsecureMountBaseError);
    expect((error as Error).message).to.match(/not directly under/);
  });

  for (const name of ['', '.', '..', 'a/b', '../x']) {
    it(`refuses the name ${JSON.stringify(name)} with a TypeError`, async () => {
      await expect(ensureMountDirectory(base, name, me)).to.be.rejectedWith(TypeError);
    });
  }

  it('refuses a directory owned by someone other than root or the agent', async function () {
    requireRoot(this);
    mkdirSync(join(base, NAME));
    chownSync(join(base, NAME), 12345, 12345);
    await refused(/owned by uid 12345/, {});
    expect(await ensureMountDirectory(base, NAME, { agentUid: 12345 })).to.equal(join(base, NAME));
  });
});
