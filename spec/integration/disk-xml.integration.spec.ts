/** Every getConfig case through libvirt's own parser and schema (`virsh define --validate`). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ConnectionInfo, DiskInfo } from '../../lib/drivers/connection-info.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { IOTUNE_KEYS } from '../../lib/libvirt/guest-disk-config.js';
import { buildGuestDiskConfig } from '../../lib/libvirt/build-guest-disk-config.js';
import { formatDiskXml } from '../../lib/libvirt/format-disk-xml.js';
import { requireRealHost } from './support/real-host.js';

const SERIAL = '3f1b2d3c-1111-2222-3333-444455556666';
const VIRTIO: DiskInfo = { bus: 'virtio', dev: 'vdb', type: 'disk' };

function ci(data: Partial<ConnectionInfo['data']> = {}, extra: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return { driver_volume_type: 'quobyte', ...extra, data: { export: 'quobyte://registry.example.com:7861/openstack-volumes', name: `volume-${SERIAL}`, ...data } };
}

const cases: Array<[string, ConnectionInfo, DiskInfo]> = [
  ['Nova\'s unit-test input', ci({ export: 'quobyte://192.168.1.1/volume-00001', name: 'volume-00000001' }), { bus: 'virtio', dev: 'vde', type: 'disk' }],
  ['a qcow2 volume with QoS and discard (Nova example 1)', ci({ format: 'qcow2', volume_id: SERIAL, access_mode: 'rw', discard: true, qos_specs: { total_iops_sec: '500', read_bytes_sec: '1048576' } }, { serial: SERIAL }), VIRTIO],
  ['a read-only multiattach SCSI volume (Nova example 2)', ci({ access_mode: 'ro', volume_id: SERIAL }, { serial: SERIAL, multiattach: true }), { bus: 'scsi', dev: 'sdb', type: 'disk', unit: 1 }],
  ['every read and write QoS key at once', ci({ qos_specs: Object.fromEntries(IOTUNE_KEYS.filter((key) => !key.startsWith('total_')).map((key, index) => [key, String(1000 + index)])) }), VIRTIO],
  ['every total QoS key at once', ci({ qos_specs: Object.fromEntries(IOTUNE_KEYS.filter((key) => !/^(read|write)_/.test(key)).map((key, index) => [key, String(1000 + index)])) }), VIRTIO],
  ['read and write limits for bytes and IOPS', ci({ qos_specs: { read_bytes_sec: '1', write_bytes_sec: '2', read_iops_sec: '3', write_iops_sec: '4' } }), VIRTIO],
  ['block sizes', ci({ logical_block_size: '512', physical_block_size: '4096' }), VIRTIO],
  ['a name with XML metacharacters', ci({ name: 'volume-&<>"\'-x' }), VIRTIO],
  ['a SATA disk', ci(), { bus: 'sata', dev: 'sda', type: 'disk' }],
];

describe('formatDiskXml() against libvirt\'s schema', function () {
  this.timeout(30_000);
  let directory: string | undefined;

  before(function () {
    requireRealHost(this, { virsh: true });
    directory = mkdtempSync(join(tmpdir(), 'lvd-xml-'));
  });

  after(() => {
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  const driver = new QuobyteVolumeDriver({ mountPointBase: '/var/lib/nova/mnt' });

  for (const [what, connectionInfo, diskInfo] of cases) {
    it(`accepts ${what}`, () => {
      const disk = formatDiskXml(driver.getConfig(connectionInfo, diskInfo));
      const domain = [
        '<domain type="test">',
        '  <name>lvd-check</name>',
        '  <memory unit="KiB">131072</memory>',
        '  <os><type arch="x86_64">hvm</type></os>',
        '  <devices>',
        disk,
        '  </devices>',
        '</domain>',
      ].join('\n');
      const file = join(directory ?? tmpdir(), 'domain.xml');
      writeFileSync(file, domain);
      const result = spawnSync('virsh', ['-c', 'test:///default', 'define', '--validate', file], { encoding: 'utf8' });
      expect(result.status, result.stderr).to.equal(0);
    });
  }

  it('accepts LUKS encryption with a secret', () => {
    const config = buildGuestDiskConfig(ci(), VIRTIO, '/var/lib/nova/mnt/x/volume-1', { encryptionSecretUuid: '2a0a0d6c-babf-454d-b93e-9ac9957b95e0' });
    const file = join(directory ?? tmpdir(), 'luks.xml');
    writeFileSync(file, `<domain type="test"><name>lvd-luks</name><memory unit="KiB">131072</memory><os><type arch="x86_64">hvm</type></os><devices>${formatDiskXml(config)}</devices></domain>`);
    const result = spawnSync('virsh', ['-c', 'test:///default', 'define', '--validate', file], { encoding: 'utf8' });
    expect(result.status, result.stderr).to.equal(0);
  });

  it('is really checked: libvirt refuses a disk with an unknown io mode', () => {
    const xml = formatDiskXml(driver.getConfig(ci(), VIRTIO)).replace('io="native"', 'io="nonsense"');
    const file = join(directory ?? tmpdir(), 'bad.xml');
    writeFileSync(file, `<domain type="test"><name>lvd-bad</name><memory unit="KiB">131072</memory><os><type arch="x86_64">hvm</type></os><devices>${xml}</devices></domain>`);
    expect(spawnSync('virsh', ['-c', 'test:///default', 'define', '--validate', file]).status).to.not.equal(0);
  });
});
