/**
 * The image gate against real images made by qemu-img (Debian qemu-utils): every attack of
 * issue 10 refused, the accepted cases agreeing with qemu-img's own view of the chain, and their
 * XML passing libvirt's schema (`virsh define --validate`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patchFile, qemuImgIn } from './support/qemu-img.js';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { UnsafeImageError } from '../../lib/errors.js';
import { NodeFileSystemProbe } from '../../lib/filesystem/node-file-system-probe.js';
import { checkImage, type BackingImage, type ImageFormat, type ImageReader } from '../../lib/images/image-gate.js';
import { buildGuestDiskConfig } from '../../lib/libvirt/build-guest-disk-config.js';
import { formatDiskXml } from '../../lib/libvirt/format-disk-xml.js';

use(chaiAsPromised);

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root (mknod)';
  if (spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status !== 0) return 'qemu-img is not installed (apt-get install qemu-utils)';
  if (spawnSync('virsh', ['--version'], { stdio: 'ignore' }).status !== 0) return 'virsh is not installed (apt-get install libvirt-clients)';
  return undefined;
}

describe('checkImage() on images made by qemu-img', function () {
  this.timeout(60_000);
  const root = mkdtempSync(join(tmpdir(), 'lvd-images-'));
  // The volume's directory (a share's mount path) and a neighbour (another tenant's share).
  const share = join(root, 'share');
  const other = join(root, 'other');
  const probe = new NodeFileSystemProbe();
  const reader: ImageReader = {
    lstat: (path) => probe.lstat(path, { timeoutMs: 5_000 }),
    readBytes: (path, position, length) => probe.readBytes(path, position, length, { timeoutMs: 5_000 }),
  };

  before(function () {
    const why = missing();
    if (why !== undefined) {
      if (process.env.CI === 'true') throw new Error(`Image gate integration tests cannot run in CI: ${why}`);
      console.warn(`      skipping image gate tests: ${why}`);
      this.skip();
    }
    mkdirSync(share);
    mkdirSync(other);
  });

  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** `qemu-img <args>` in the share; `-u` where a backing file must not (or cannot) be opened. */
  const qemuImg = (...args: string[]): void => { qemuImgIn(share, ...args); };
  const patch = (name: string, offset: number, bytes: number[]): void => { patchFile(join(share, name), offset, bytes); };

  async function refused(name: string, why: RegExp, format: ImageFormat = 'qcow2'): Promise<UnsafeImageError> {
    const error: unknown = await checkImage(reader, join(share, name), format).catch((caught: unknown) => caught);
    expect(error, `${name} was accepted`).to.be.instanceOf(UnsafeImageError);
    expect((error as UnsafeImageError).code).to.equal('ERR_UNSAFE_IMAGE');
    expect((error as Error).message).to.match(why);
    return error as UnsafeImageError;
  }

  /** The disk of `name` in a whole domain, through libvirt's parser and schema. */
  function validateXml(name: string, format: ImageFormat, backingChain: readonly BackingImage[]): string {
    const ci: ConnectionInfo = { driver_volume_type: 'quobyte', data: { export: 'registry/vol', name, format } };
    const disk = formatDiskXml(buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }, join(share, name), { backingChain }));
    const file = join(root, `${name}.domain.xml`);
    writeFileSync(file, `<domain type="test"><name>lvd-image-${name}</name><memory unit="KiB">131072</memory><os><type arch="x86_64">hvm</type></os><devices>${disk}</devices></domain>`);
    const result = spawnSync('virsh', ['-c', 'test:///default', 'define', '--validate', file], { encoding: 'utf8' });
    expect(result.status, result.stderr).to.equal(0);
    return disk;
  }

  /** qemu-img's own chain, top first, the image itself excluded (opened read-only, -U). */
  function qemuChain(name: string): string[] {
    const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', '--backing-chain', '-f', 'qcow2', join(share, name)], { encoding: 'utf8' })) as Array<{ filename: string }>;
    return info.slice(1).map((entry) => entry.filename);
  }

  describe('accepts', () => {
    it('a plain qcow2 image, with <backingStore/>', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', 'plain.qcow2', '1G');
      const result = await checkImage(reader, join(share, 'plain.qcow2'), 'qcow2');
      expect(result).to.deep.equal({ backingChain: [], virtualSize: 2 ** 30, exists: true });
      expect(validateXml('plain.qcow2', 'qcow2', result.backingChain)).to.contain('<backingStore/>');
    });

    it('a raw image, never read, even when a guest wrote a hostile qcow2 header into it', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', '/etc/passwd', '-F', 'raw', 'guest-wrote.raw', '1M');
      expect(await checkImage(reader, join(share, 'guest-wrote.raw'), 'raw')).to.deep.equal({ backingChain: [], exists: true });
      const xml = validateXml('guest-wrote.raw', 'raw', []);
      expect(xml).to.contain('type="raw"').and.to.contain('<backingStore/>');
    });

    it('a sibling snapshot chain (qemu-img create -b base -F qcow2 top), as qemu-img sees it', async () => {
      qemuImg('create', '-q', '-f', 'raw', 'volume-a', '1M');
      qemuImg('create', '-q', '-f', 'qcow2', '-b', 'volume-a', '-F', 'raw', 'volume-a.snap1');
      qemuImg('create', '-q', '-f', 'qcow2', '-b', 'volume-a.snap1', '-F', 'qcow2', 'volume-a.snap2');
      const result = await checkImage(reader, join(share, 'volume-a.snap2'), 'qcow2');
      expect(result.backingChain).to.deep.equal([{ name: 'volume-a.snap1', format: 'qcow2' }, { name: 'volume-a', format: 'raw' }]);
      expect(qemuChain('volume-a.snap2')).to.deep.equal([join(share, 'volume-a.snap1'), join(share, 'volume-a')]);
      const xml = validateXml('volume-a.snap2', 'qcow2', result.backingChain);
      expect(xml).to.contain(`<source file="${join(share, 'volume-a.snap1')}"/>`).and.to.contain(`<source file="${join(share, 'volume-a')}"/>`);
    });

    it('a version 2 (compat=0.10) overlay with a backing format', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', 'v2-base', '1M');
      qemuImg('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', '-b', 'v2-base', '-F', 'qcow2', 'v2-top');
      const result = await checkImage(reader, join(share, 'v2-top'), 'qcow2');
      expect(result.backingChain).to.deep.equal([{ name: 'v2-base', format: 'qcow2' }]);
      validateXml('v2-top', 'qcow2', result.backingChain);
    });

    it('a LUKS-encrypted qcow2 image of an encrypted volume (and refuses it for a plain one)', async () => {
      qemuImg('create', '-q', '--object', 'secret,id=s0,data=pw', '-f', 'qcow2', '-o', 'encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10', 'luks.qcow2', '1M');
      expect(await checkImage(reader, join(share, 'luks.qcow2'), 'qcow2', { encrypted: true })).to.include({ exists: true });
      await refused('luks.qcow2', /not marked encrypted/);
    });
  });

  describe('refuses', () => {
    const backings: Array<[string, string, string[]]> = [
      ['the host file /etc/passwd', 'passwd.qcow2', ['-b', '/etc/passwd', '-F', 'raw']],
      ['a relative escape ../../x', 'escape.qcow2', ['-b', '../../x', '-F', 'raw']],
      ["another directory's file (relative)", 'neighbour-rel.qcow2', ['-b', '../other/volume-b', '-F', 'raw']],
      ["another directory's file (absolute)", 'neighbour-abs.qcow2', ['-b', join(other, 'volume-b'), '-F', 'raw']],
      ['its own directory by absolute path', 'self-abs.qcow2', ['-b', join(share, 'plain.qcow2'), '-F', 'qcow2']],
      ['a json: block graph', 'json.qcow2', ['-b', 'json:{"driver":"raw","file":{"driver":"file","filename":"/etc/shadow"}}', '-F', 'raw']],
      ['an nbd:// export', 'nbd.qcow2', ['-b', 'nbd://attacker.example.com/x', '-F', 'raw']],
      ['a file: protocol prefix', 'fileproto.qcow2', ['-b', 'file:plain.qcow2', '-F', 'qcow2']],
    ];
    for (const [what, name, args] of backings) {
      it(`a backing file naming ${what}`, async () => {
        qemuImg('create', '-q', '-f', 'qcow2', '-u', ...args, name, '1M');
        await refused(name, /only a plain file name in the same directory/);
      });
    }

    it('a backing file whose format is not raw or qcow2 (vmdk)', async () => {
      qemuImg('create', '-q', '-f', 'vmdk', 'base.vmdk', '1M');
      qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', 'base.vmdk', '-F', 'vmdk', 'over-vmdk.qcow2', '1M');
      await refused('over-vmdk.qcow2', /only raw and qcow2/);
    });

    it('an external data file in the same directory (qemu-img create -o data_file=...)', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', '-o', 'data_file=data.raw', 'data-file.qcow2', '1M');
      await refused('data-file.qcow2', /external data file/);
    });

    it('an external data file elsewhere, also with data_file_raw', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${join(other, 'data.raw')},data_file_raw=on`, 'data-file-raw.qcow2', '1M');
      await refused('data-file-raw.qcow2', /external data file/);
    });

    it('a data file extension left after the incompatible bit is cleared', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', '-o', 'data_file=data2.raw', 'data-ext.qcow2', '1M');
      patch('data-ext.qcow2', 79, [0x00]);
      await refused('data-ext.qcow2', /0x44415441/);
    });

    it('an unknown incompatible feature bit (bit 5, patched)', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', 'bit5.qcow2', '1M');
      patch('bit5.qcow2', 79, [0x20]);
      await refused('bit5.qcow2', /unknown incompatible feature bits 0x20/);
    });

    it('version 1 (qemu-img create -f qcow)', async () => {
      qemuImg('create', '-q', '-f', 'qcow', 'v1.qcow', '1M');
      await refused('v1.qcow', /version 1, not 2 or 3/);
    });

    it('version 4 (patched)', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', 'v4.qcow2', '1M');
      patch('v4.qcow2', 4, [0, 0, 0, 4]);
      await refused('v4.qcow2', /version 4, not 2 or 3/);
    });

    it('a raw file declared qcow2', async () => {
      qemuImg('create', '-q', '-f', 'raw', 'really-raw', '1M');
      await refused('really-raw', /not a qcow2 image/);
    });

    it('a chain that loops (a -> b -> a, rebased with -u)', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', 'loop-a', '1M');
      qemuImg('create', '-q', '-f', 'qcow2', '-b', 'loop-a', '-F', 'qcow2', 'loop-b');
      qemuImg('rebase', '-q', '-u', '-f', 'qcow2', '-b', 'loop-b', '-F', 'qcow2', 'loop-a');
      await refused('loop-a', /already in the chain \(a loop\)/);
    });

    it('a chain deeper than 16, while one of exactly 16 passes', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', 'deep-0', '1M');
      for (let index = 1; index <= 17; index += 1) qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', `deep-${index - 1}`, '-F', 'qcow2', `deep-${index}`, '1M');
      expect((await checkImage(reader, join(share, 'deep-16'), 'qcow2')).backingChain).to.have.length(16);
      await refused('deep-17', /longer than 16 images/);
    });

    it('a sibling whose own backing file is hostile', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', '/etc/passwd', '-F', 'raw', 'evil-base', '1M');
      qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', 'evil-base', '-F', 'qcow2', 'innocent-top', '1M');
      const error = await refused('innocent-top', /evil-base in its backing chain names the backing file "\/etc\/passwd"/);
      expect(error.imagePath).to.equal(join(share, 'evil-base'));
    });

    it('a sibling backing file that is a symbolic link to a host file', async () => {
      symlinkSync('/etc/passwd', join(share, 'linked-base'));
      qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', 'linked-base', '-F', 'raw', 'over-link', '1M');
      await refused('over-link', /linked-base in its backing chain is a symbolic link/);
    });

    const specials: Array<[string, string, () => void, RegExp]> = [
      ['a FIFO', 'fifo', () => execFileSync('mkfifo', [join(share, 'fifo')]), /FIFO/],
      ['a directory', 'dir', () => { mkdirSync(join(share, 'dir')); }, /directory/],
      ['a symbolic link to a valid image', 'link', () => { symlinkSync(join(share, 'plain.qcow2'), join(share, 'link')); }, /symbolic link/],
      ['a character device node (mknod c 1 3, /dev/null)', 'chardev', () => execFileSync('mknod', [join(share, 'chardev'), 'c', '1', '3']), /character device/],
      ['a block device node (mknod b 7 0, a loop device)', 'blockdev', () => execFileSync('mknod', [join(share, 'blockdev'), 'b', '7', '0']), /block device/],
    ];
    for (const [what, name, make, why] of specials) {
      it(`${what} as the image, raw or qcow2`, async () => {
        make();
        await refused(name, why, 'raw');
        await refused(name, why, 'qcow2');
      });
    }

    it('a missing qcow2 image (a missing raw one is left for libvirt to report)', async () => {
      await refused('nothing-here', /does not exist/);
      expect(await checkImage(reader, join(share, 'nothing-here'), 'raw')).to.deep.equal({ backingChain: [], exists: false });
    });
  });
});
