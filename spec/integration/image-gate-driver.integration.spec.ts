/**
 * The image gate at connect, through QuobyteVolumeDriver on real FUSE mounts of the stand-in
 * client, with images made by qemu-img on the share: hostile qcow2 images refused with nothing
 * recorded and the share this call mounted unmounted again; a sibling snapshot chain accepted,
 * with the confined chain in an XML libvirt's schema accepts; an image swapped for a link between
 * two connects; encryption that cannot be dropped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { patchFile, qemuImgIn } from './support/qemu-img.js';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import type { ConnectionInfo, DiskInfo } from '../../lib/drivers/connection-info.js';
import { InvalidConnectionInfoError, InvalidVolumeError, UnsafeImageError } from '../../lib/errors.js';
import { formatDiskXml } from '../../lib/libvirt/format-disk-xml.js';
import { argvOf, driverFor, type CallLog, type DriverUnderTest } from './support/agent-driver.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';

use(chaiAsPromised);

const GUEST_A = { uuid: '11111111-1111-4111-8111-111111111111' };
const GUEST_B = { uuid: '22222222-2222-4222-8222-222222222222' };
const VIRTIO: DiskInfo = { bus: 'virtio', dev: 'vdb', type: 'disk' };
const SECRET = '2a0a0d6c-babf-454d-b93e-9ac9957b95e0';
const EXPORT = 'registry/images';

function ci(name: string, data: Partial<ConnectionInfo['data']> = {}): ConnectionInfo {
  return { driver_volume_type: 'quobyte', data: { export: EXPORT, name, format: 'qcow2', ...data } };
}

describe('the image gate at connect (QuobyteVolumeDriver, real mounts, qemu-img images)', function () {
  this.timeout(60_000);
  let host: RealHost;
  let runner: CallLog;
  let driver: DriverUnderTest;
  /** The share's content on the stand-in's backing store. */
  let share: string;
  let mountPath: string;

  before(function () {
    requireRealHost(this, { virsh: true });
    if (spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status !== 0) {
      if (process.env.CI === 'true') throw new Error('qemu-img is not installed (apt-get install qemu-utils)');
      console.warn('      skipping: qemu-img is not installed');
      this.skip();
    }
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    share = join(host.backing, EXPORT.replace(/[/:,]/g, '_'));
    mkdirSync(share, { recursive: true });
    ({ driver, runner } = driverFor(host, { store: 'memory', probeTimeoutMs: 5_000 }));
    mountPath = driver.getMountPath(ci('x'));
  });

  afterEach(() => {
    host.cleanUp();
  });

  const qemuImg = (...args: string[]): void => { qemuImgIn(share, ...args); };
  const patch = (name: string, offset: number, bytes: number[]): void => { patchFile(join(share, name), offset, bytes); };

  /** The disk in a whole domain, through libvirt's parser and schema. */
  function validate(disk: string): void {
    const file = join(host.root, 'domain.xml');
    writeFileSync(file, `<domain type="test"><name>lvd-gate</name><memory unit="KiB">131072</memory><os><type arch="x86_64">hvm</type></os><devices>${disk}</devices></domain>`);
    const result = spawnSync('virsh', ['-c', 'test:///default', 'define', '--validate', file], { encoding: 'utf8' });
    expect(result.status, result.stderr).to.equal(0);
  }

  async function refusedAtConnect(volume: ConnectionInfo, instance = GUEST_A): Promise<UnsafeImageError> {
    const error: unknown = await driver.connectVolume(volume, instance).catch((caught: unknown) => caught);
    expect(error, String(error)).to.be.instanceOf(UnsafeImageError);
    expect(error).to.have.property('code', 'ERR_UNSAFE_IMAGE');
    return error as UnsafeImageError;
  }

  const hostile: Array<[string, string, () => void, RegExp]> = [
    ['a backing file naming /etc/passwd', 'passwd.qcow2', () => { qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', '/etc/passwd', '-F', 'raw', 'passwd.qcow2', '1M'); }, /backing file "\/etc\/passwd"/],
    ['a json: backing file', 'json.qcow2', () => { qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', 'json:{"driver":"raw","file":{"driver":"file","filename":"/etc/shadow"}}', '-F', 'raw', 'json.qcow2', '1M'); }, /only a plain file name in the same directory/],
    ['an nbd:// backing file', 'nbd.qcow2', () => { qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', 'nbd://attacker.example.com/x', '-F', 'raw', 'nbd.qcow2', '1M'); }, /only a plain file name in the same directory/],
    ['a relative escape ../../x', 'escape.qcow2', () => { qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', '../../x', '-F', 'raw', 'escape.qcow2', '1M'); }, /only a plain file name in the same directory/],
    ['an external data file (data_file)', 'data-file.qcow2', () => { qemuImg('create', '-q', '-f', 'qcow2', '-o', 'data_file=data.raw', 'data-file.qcow2', '1M'); }, /external data file/],
    ['an unknown incompatible feature bit', 'bit5.qcow2', () => { qemuImg('create', '-q', '-f', 'qcow2', 'bit5.qcow2', '1M'); patch('bit5.qcow2', 79, [0x20]); }, /unknown incompatible feature bits 0x20/],
  ];

  describe('refuses each hostile qcow2 image, records nothing, and unmounts the share it mounted', () => {
    for (const [what, name, make, why] of hostile) {
      it(what, async () => {
        make();
        const error = await refusedAtConnect(ci(name));
        expect(error.message).to.match(why);
        expect((await driver.listAttachments()).size).to.equal(0);
        expect(runner.argv).to.deep.equal([argvOf(host).mount(EXPORT), argvOf(host).umount(EXPORT)]);
        expect(host.mounts()).to.deep.equal([]);
        expect(existsSync(mountPath)).to.equal(false);
      });
    }

    it('leaves a share others use mounted: only the hostile attachment is refused', async () => {
      qemuImg('create', '-q', '-f', 'qcow2', 'good.qcow2', '1M');
      hostile[0]?.[2]();
      await driver.connectVolume(ci('good.qcow2'), GUEST_A);
      await refusedAtConnect(ci('passwd.qcow2'), GUEST_B);
      expect(Object.keys((await driver.listAttachments()).toJSON())).to.deep.equal([mountPath]);
      expect((await driver.listAttachments()).get(mountPath)).to.have.length(1);
      expect(host.mounts()).to.have.length(1);
      expect(runner.argv).to.deep.equal([argvOf(host).mount(EXPORT)]);
    });
  });

  it('accepts a sibling snapshot chain: getConfig names the confined chain, and libvirt accepts the XML', async () => {
    qemuImg('create', '-q', '-f', 'raw', 'volume-a', '1M');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'volume-a', '-F', 'raw', 'volume-a.snap1');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'volume-a.snap1', '-F', 'qcow2', 'volume-a.snap2');
    const volume = ci('volume-a.snap2');
    await driver.connectVolume(volume, GUEST_A);
    const xml = formatDiskXml(driver.getConfig(volume, VIRTIO));
    expect(xml).to.contain(`<source file="${join(mountPath, 'volume-a.snap2')}"/>`);
    const chain = [...xml.matchAll(/<backingStore type="file">\s*<format type="(\w+)"\/>\s*<source file="([^"]+)"\/>/g)].map((match) => [match[1], match[2]]);
    expect(chain).to.deep.equal([['qcow2', join(mountPath, 'volume-a.snap1')], ['raw', join(mountPath, 'volume-a')]]);
    expect(xml).to.match(/<backingStore\/>/); // the chain ends explicitly
    validate(xml);
  });

  it('accepts a plain qcow2 image with <backingStore/>, and libvirt accepts the XML', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', 'plain.qcow2', '1M');
    const volume = ci('plain.qcow2');
    await driver.connectVolume(volume, GUEST_A);
    const xml = formatDiskXml(driver.getConfig(volume, VIRTIO));
    expect(xml).to.contain('<backingStore/>').and.not.to.contain('<backingStore type=');
    validate(xml);
  });

  describe('an image swapped for a link between two connects', () => {
    beforeEach(() => {
      qemuImg('create', '-q', '-f', 'qcow2', 'swapped.qcow2', '1M');
      qemuImg('create', '-q', '-f', 'qcow2', 'other-tenant.qcow2', '1M');
    });

    /** Through the share, as another client of it would (behind the client's back the kernel's cache would still say file). */
    function swap(): void {
      renameSync(join(mountPath, 'swapped.qcow2'), join(mountPath, 'swapped.qcow2.old'));
      symlinkSync('other-tenant.qcow2', join(mountPath, 'swapped.qcow2'));
    }

    it('is refused at the second connect of another guest', async () => {
      await driver.connectVolume(ci('swapped.qcow2'), GUEST_A);
      swap();
      const error = await refusedAtConnect(ci('swapped.qcow2'), GUEST_B);
      expect(error.message).to.match(/symbolic link/);
      expect((await driver.listAttachments()).get(mountPath)).to.have.length(1);
    });

    it('is refused at the same guest\'s warm connect too (the gate is never cached)', async () => {
      await driver.connectVolume(ci('swapped.qcow2'), GUEST_A);
      swap();
      const before = runner.commands.length;
      await refusedAtConnect(ci('swapped.qcow2'), GUEST_A);
      expect(runner.commands.length).to.equal(before);
    });

    it('is refused when swapped for a FIFO, in bounded time', async () => {
      await driver.connectVolume(ci('swapped.qcow2'), GUEST_A);
      renameSync(join(mountPath, 'swapped.qcow2'), join(mountPath, 'swapped.qcow2.old'));
      execFileSync('mkfifo', [join(mountPath, 'swapped.qcow2')]);
      const started = performance.now();
      const error = await refusedAtConnect(ci('swapped.qcow2'), GUEST_B);
      expect(error.message).to.match(/FIFO/);
      expect(performance.now() - started).to.be.below(5_000);
    });
  });

  it('an image swapped for a FIFO behind the client\'s back (the kernel still caches a file): refused, never blocked', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', 'behind.qcow2', '1M');
    await driver.connectVolume(ci('behind.qcow2'), GUEST_A);
    renameSync(join(share, 'behind.qcow2'), join(share, 'behind.qcow2.old'));
    execFileSync('mkfifo', [join(share, 'behind.qcow2')]);
    const started = performance.now();
    const error: unknown = await driver.connectVolume(ci('behind.qcow2'), GUEST_B).catch((caught: unknown) => caught);
    // The read opens O_NONBLOCK, which reaches the client: it answers at once (ESPIPE) instead
    // of blocking until probeTimeoutMs (5 s here) in a FIFO's open.
    expect(performance.now() - started).to.be.below(2_000);
    expect(error, String(error)).to.be.instanceOf(InvalidVolumeError);
    expect((error as Error).message).to.contain('could not be checked: ESPIPE');
    expect((await driver.listAttachments()).get(mountPath)).to.have.length(1);
  });

  describe('an encrypted volume', () => {
    const encrypted = (): ConnectionInfo => ci('luks.qcow2', { encrypted: true });

    beforeEach(async () => {
      qemuImg('create', '-q', '--object', 'secret,id=s0,data=pw', '-f', 'qcow2', '-o', 'encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10', 'luks.qcow2', '1M');
      await driver.connectVolume(encrypted(), GUEST_A);
    });

    it('is refused by getConfig without its secret (never attached in clear)', () => {
      expect(() => driver.getConfig(encrypted(), VIRTIO)).to.throw(InvalidConnectionInfoError, /no encryptionSecretUuid/).with.property('field', 'data.encrypted');
    });

    it('with its secret emits <encryption format="luks">, and libvirt accepts the XML', () => {
      const xml = formatDiskXml(driver.getConfig(encrypted(), VIRTIO, { encryptionSecretUuid: SECRET }));
      expect(xml).to.contain('<encryption format="luks">').and.to.contain(`<secret type="passphrase" uuid="${SECRET}"/>`);
      validate(xml);
    });

    it('the same LUKS image is refused for a volume not marked encrypted', async () => {
      await refusedAtConnect(ci('luks.qcow2'), GUEST_B);
    });
  });
});
