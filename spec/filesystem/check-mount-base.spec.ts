import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { InsecureMountBaseError } from '../../lib/errors.js';
import { checkMountBase, type MountBaseOptions } from '../../lib/filesystem/check-mount-base.js';
import { requireRoot } from '../support/require-root.js';

describe('checkMountBase()', () => {
  const me = { agentUid: process.getuid?.() ?? 0 };
  let root: string;
  let base: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lvd-base-'));
    base = join(root, 'mnt');
    mkdirSync(base, { mode: 0o755 });
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const refusal = async (path: string, options: MountBaseOptions = me): Promise<InsecureMountBaseError> => {
    const error = await checkMountBase(path, options).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(InsecureMountBaseError);
    expect(error).to.have.property('code', 'ERR_INSECURE_MOUNT_BASE');
    return error as InsecureMountBaseError;
  };

  it('returns the canonical path of a base only root or the agent can change', async () => {
    expect(await checkMountBase(base, me)).to.equal(base);
    expect(await checkMountBase(`${base}/`, me)).to.equal(base);
  });

  it('resolves a link above the base, and checks the canonical directories', async () => {
    symlinkSync(root, join(root, 'alias'));
    expect(await checkMountBase(join(root, 'alias', 'mnt'), me)).to.equal(base);
  });

  it('refuses a base that is itself a symbolic link', async () => {
    symlinkSync(base, join(root, 'link'));
    expect((await refusal(join(root, 'link'))).message).to.match(/symbolic link/);
  });

  it('refuses a base that is missing, or a file', async () => {
    await refusal(join(root, 'nope'));
    rmSync(base, { recursive: true });
    mkdirSync(root, { recursive: true });
    await import('node:fs').then(({ writeFileSync }) => { writeFileSync(base, ''); });
    expect((await refusal(base)).message).to.match(/not a directory/);
  });

  for (const mode of [0o777, 0o775, 0o757]) {
    it(`refuses a base of mode ${mode.toString(8)} (writable by group or others, not sticky)`, async () => {
      chmodSync(base, mode);
      expect((await refusal(base)).message).to.match(/writable by group or others/);
    });
  }

  it('accepts a sticky world-writable base (entries are checked by ensureMountDirectory)', async () => {
    chmodSync(base, 0o1777);
    expect(await checkMountBase(base, me)).to.equal(base);
  });

  it('refuses a base under a directory others may write', async () => {
    chmodSync(root, 0o777);
    expect((await refusal(base)).message).to.contain(`${root} is writable`);
  });

  it('refuses a relative path with a TypeError', async () => {
    expect(await checkMountBase('var/lib/nova/mnt', me).catch((e: unknown) => e)).to.be.instanceOf(TypeError);
  });

  describe('owners', () => {
    beforeEach(function () {
      requireRoot(this);
    });

    it('refuses a base owned by another user, unless that user is the agent', async () => {
      chownSync(base, 12345, 12345);
      expect((await refusal(base, {})).message).to.match(/owned by uid 12345/);
      expect(await checkMountBase(base, { agentUid: 12345 })).to.equal(base);
    });

    it('refuses a base under a directory owned by another user (who could rename it away)', async () => {
      chownSync(root, 12345, 12345);
      expect((await refusal(base, {})).message).to.contain(`${root} is owned by uid 12345`);
    });
  });
});
