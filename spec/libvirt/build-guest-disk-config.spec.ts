import { expect } from 'chai';
import type { ConnectionData, ConnectionInfo, DiskInfo } from '../../lib/drivers/connection-info.js';
import { InvalidConnectionInfoError } from '../../lib/errors.js';
import { buildGuestDiskConfig } from '../../lib/libvirt/build-guest-disk-config.js';
import { IOTUNE_KEYS, type GuestDiskConfig } from '../../lib/libvirt/guest-disk-config.js';

const VOLUME_ID = '3f1b2d3c-1111-2222-3333-444455556666';
const SECRET_UUID = '2a0a0d6c-babf-454d-b93e-9ac9957b95e0';
const SOURCE_PATH = '/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001';

/** Nova's LibvirtQuobyteVolumeDriverTestCase input. */
function novaTestInput(data: Partial<ConnectionData> = {}): ConnectionInfo {
  return { data: { export: 'quobyte://192.168.1.1/volume-00001', name: 'volume-00000001', ...data } };
}

const VIRTIO_VDE: DiskInfo = { bus: 'virtio', dev: 'vde', type: 'disk' };

function build(ci: ConnectionInfo, diskInfo: DiskInfo = VIRTIO_VDE): GuestDiskConfig {
  return buildGuestDiskConfig(ci, diskInfo, SOURCE_PATH);
}

/** Connection info as a JavaScript caller or a JSON document might pass it, outside the types. */
function untyped(data: Record<string, unknown>, rest: Record<string, unknown> = {}): ConnectionInfo {
  const ci: unknown = { ...rest, data: { export: '192.168.1.1/volume-00001', name: 'volume-00000001', ...data } };
  return ci as ConnectionInfo;
}

describe('buildGuestDiskConfig()', () => {
  it("builds Nova's config for the Nova unit-test input, without serial or alias", () => {
    expect(build(novaTestInput())).to.deep.equal({
      sourceType: 'file',
      sourceDevice: 'disk',
      driverName: 'qemu',
      driverFormat: 'raw',
      driverCache: 'none',
      driverIo: 'native',
      sourcePath: SOURCE_PATH,
      backingChain: [],
      targetDev: 'vde',
      targetBus: 'virtio',
      readOnly: false,
      shareable: false,
    });
  });

  it("builds Nova's config for a qcow2 volume with QoS", () => {
    const ci: ConnectionInfo = {
      serial: VOLUME_ID,
      data: {
        export: 'quobyte://registry.example.com:7861/openstack-volumes',
        name: `volume-${VOLUME_ID}`,
        format: 'qcow2',
        volume_id: VOLUME_ID,
        access_mode: 'rw',
        discard: true,
        qos_specs: { total_iops_sec: '500', read_bytes_sec: '1048576' },
      },
    };
    expect(buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }, SOURCE_PATH)).to.deep.equal({
      sourceType: 'file',
      sourceDevice: 'disk',
      driverName: 'qemu',
      driverFormat: 'qcow2',
      driverCache: 'none',
      driverIo: 'native',
      driverDiscard: 'unmap',
      alias: `ua-${VOLUME_ID}`,
      sourcePath: SOURCE_PATH,
      backingChain: [],
      targetDev: 'vdb',
      targetBus: 'virtio',
      serial: VOLUME_ID,
      iotune: { read_bytes_sec: '1048576', total_iops_sec: '500' },
      readOnly: false,
      shareable: false,
    });
  });

  it('takes the device type, target device and bus from disk info', () => {
    const config = build(novaTestInput(), { bus: 'sata', dev: 'sdc', type: 'lun' });
    expect([config.sourceDevice, config.targetDev, config.targetBus]).to.deep.equal(['lun', 'sdc', 'sata']);
  });

  describe('driverFormat', () => {
    it('is raw when data.format is absent', () => {
      expect(build(novaTestInput()).driverFormat).to.equal('raw');
    });

    it('is raw when data.format is null (Cinder\'s None; Nova would write no type at all)', () => {
      expect(build(novaTestInput({ format: null })).driverFormat).to.equal('raw');
    });

    it('is data.format when given', () => {
      expect(build(novaTestInput({ format: 'qcow2' })).driverFormat).to.equal('qcow2');
      expect(build(novaTestInput({ format: 'raw' })).driverFormat).to.equal('raw');
    });
  });

  describe('serial', () => {
    it('is ci.serial', () => {
      expect(build({ ...novaTestInput(), serial: VOLUME_ID }).serial).to.equal(VOLUME_ID);
    });

    it('is absent without ci.serial, or when it is empty', () => {
      expect(build(novaTestInput())).not.to.have.property('serial');
      expect(build({ ...novaTestInput(), serial: '' })).not.to.have.property('serial');
    });
  });

  describe('alias', () => {
    it('is ua-<data.volume_id>', () => {
      const ci = { ...novaTestInput({ volume_id: VOLUME_ID }), serial: 'another-serial' };
      expect(build(ci).alias).to.equal(`ua-${VOLUME_ID}`);
    });

    it('falls back to ua-<serial> without a volume id', () => {
      expect(build({ ...novaTestInput(), serial: VOLUME_ID }).alias).to.equal(`ua-${VOLUME_ID}`);
    });

    it("falls back to the serial when volume_id is empty, like Nova's `or`", () => {
      expect(build({ ...novaTestInput({ volume_id: '' }), serial: VOLUME_ID }).alias).to.equal(`ua-${VOLUME_ID}`);
    });

    it('is absent when there is no id at all (Nova writes ua-None)', () => {
      expect(build(novaTestInput())).not.to.have.property('alias');
    });

    it('is absent with options.alias false', () => {
      const ci = { ...novaTestInput({ volume_id: VOLUME_ID }), serial: VOLUME_ID };
      expect(buildGuestDiskConfig(ci, VIRTIO_VDE, SOURCE_PATH, { alias: false })).not.to.have.property('alias');
    });
  });

  describe('driverDiscard', () => {
    it('is unmap for data.discard true', () => {
      expect(build(novaTestInput({ discard: true })).driverDiscard).to.equal('unmap');
    });

    it('is absent for false, absent, or the string "true"', () => {
      expect(build(novaTestInput({ discard: false }))).not.to.have.property('driverDiscard');
      expect(build(novaTestInput())).not.to.have.property('driverDiscard');
      expect(build(untyped({ discard: 'true' }))).not.to.have.property('driverDiscard');
      expect(build(untyped({ discard: 1 }))).not.to.have.property('driverDiscard');
    });
  });

  describe('readOnly', () => {
    it("is true for access_mode 'ro'", () => {
      expect(build(novaTestInput({ access_mode: 'ro' })).readOnly).to.equal(true);
    });

    it("is false for access_mode 'rw' or without one", () => {
      expect(build(novaTestInput({ access_mode: 'rw' })).readOnly).to.equal(false);
      expect(build(novaTestInput()).readOnly).to.equal(false);
    });
  });

  describe('shareable', () => {
    it('is true for multiattach true', () => {
      expect(build({ ...novaTestInput(), multiattach: true }).shareable).to.equal(true);
    });

    it('is false for multiattach false or without it', () => {
      expect(build({ ...novaTestInput(), multiattach: false }).shareable).to.equal(false);
      expect(build(novaTestInput()).shareable).to.equal(false);
    });
  });

  describe('iotune', () => {
    it('keeps only the allowed qos_specs keys', () => {
      const config = build(
        untyped({ qos_specs: { read_iops_sec: '100', consumer: 'front-end', 'total_bytes_sec ': '1', disk_read_bytes_sec: '2' } }),
      );
      expect(config.iotune).to.deep.equal({ read_iops_sec: '100' });
    });

    it('accepts every key of IOTUNE_KEYS, in that order whatever the input order', () => {
      const reversed = Object.fromEntries([...IOTUNE_KEYS].reverse().map((key, index) => [key, String(index + 1)]));
      const config = build(novaTestInput({ qos_specs: reversed }));
      expect(Object.keys(config.iotune ?? {})).to.deep.equal([...IOTUNE_KEYS]);
      expect(config.iotune?.size_iops_sec).to.equal('1');
      expect(config.iotune?.total_bytes_sec).to.equal(String(IOTUNE_KEYS.length));
    });

    it('writes numbers as decimal strings', () => {
      expect(build(novaTestInput({ qos_specs: { total_iops_sec: 500, read_bytes_sec: '1048576' } })).iotune).to.deep.equal({
        read_bytes_sec: '1048576',
        total_iops_sec: '500',
      });
    });

    it('ignores values that are empty, null, not finite, or neither string nor number', () => {
      const config = build(
        untyped({
          qos_specs: {
            read_bytes_sec: '',
            read_iops_sec: null,
            write_bytes_sec: true,
            write_iops_sec: { value: 1 },
            total_bytes_sec: Number.NaN,
            total_iops_sec: Number.POSITIVE_INFINITY,
            size_iops_sec: 4096,
          },
        }),
      );
      expect(config.iotune).to.deep.equal({ size_iops_sec: '4096' });
    });

    it('is absent when no allowed key is set', () => {
      expect(build(novaTestInput({ qos_specs: {} }))).not.to.have.property('iotune');
      expect(build(novaTestInput({ qos_specs: { consumer: 'back-end' } }))).not.to.have.property('iotune');
      expect(build(novaTestInput({ qos_specs: null }))).not.to.have.property('iotune');
      expect(build(novaTestInput())).not.to.have.property('iotune');
    });

    it('ignores a qos_specs that is not a plain object', () => {
      const notPlain: unknown[] = [
        'total_iops_sec=500',
        500,
        true,
        [['total_iops_sec', '500']],
        new Map([['total_iops_sec', '500']]),
        Object.assign(Object.create({ inherited: true }) as object, { total_iops_sec: '500' }),
      ];
      for (const qos_specs of notPlain) {
        expect(build(untyped({ qos_specs })), String(qos_specs)).not.to.have.property('iotune');
      }
    });

    it('accepts an object without a prototype', () => {
      const specs = Object.assign(Object.create(null) as Record<string, string>, { total_iops_sec: '500' });
      expect(build(novaTestInput({ qos_specs: specs })).iotune).to.deep.equal({ total_iops_sec: '500' });
    });
  });

  describe('blockio', () => {
    it('holds both block sizes, as strings', () => {
      expect(build(novaTestInput({ logical_block_size: '512', physical_block_size: 4096 })).blockio).to.deep.equal({
        logicalBlockSize: '512',
        physicalBlockSize: '4096',
      });
    });

    it('holds only the size that is given', () => {
      expect(build(novaTestInput({ physical_block_size: '4096' })).blockio).to.deep.equal({ physicalBlockSize: '4096' });
      expect(build(novaTestInput({ logical_block_size: 512 })).blockio).to.deep.equal({ logicalBlockSize: '512' });
    });

    it('is absent without block sizes, or when they are empty', () => {
      expect(build(novaTestInput())).not.to.have.property('blockio');
      expect(build(novaTestInput({ logical_block_size: '' }))).not.to.have.property('blockio');
    });
  });

  describe('address', () => {
    it('is drive, controller 0 and the unit on the scsi bus', () => {
      const config = build(novaTestInput(), { bus: 'scsi', dev: 'sdb', type: 'disk', unit: 1 });
      expect(config.address).to.deep.equal({ type: 'drive', controller: 0, unit: 1 });
    });

    it('keeps unit 0', () => {
      const config = build(novaTestInput(), { bus: 'scsi', dev: 'sda', type: 'disk', unit: 0 });
      expect(config.address).to.deep.equal({ type: 'drive', controller: 0, unit: 0 });
    });

    it('is absent on the scsi bus without a unit', () => {
      expect(build(novaTestInput(), { bus: 'scsi', dev: 'sdb', type: 'disk' })).not.to.have.property('address');
    });

    it('is absent on another bus, even with a unit', () => {
      expect(build(novaTestInput(), { bus: 'virtio', dev: 'vdb', type: 'disk', unit: 1 })).not.to.have.property('address');
    });

    it('is absent for a unit that is not a non-negative integer', () => {
      for (const unit of [-1, 1.5, Number.NaN, '1']) {
        const diskInfo = { bus: 'scsi', dev: 'sdb', type: 'disk', unit } as unknown as DiskInfo;
        expect(build(novaTestInput(), diskInfo), String(unit)).not.to.have.property('address');
      }
    });
  });

  describe('encryption', () => {
    it('is LUKS with the given secret', () => {
      const config = buildGuestDiskConfig(novaTestInput(), VIRTIO_VDE, SOURCE_PATH, { encryptionSecretUuid: SECRET_UUID });
      expect(config.encryption).to.deep.equal({ format: 'luks', secretUuid: SECRET_UUID });
    });

    it('is absent without a secret', () => {
      expect(build(novaTestInput())).not.to.have.property('encryption');
    });

    it('refuses an encrypted volume without a secret: it is never attached in clear', () => {
      const error: unknown = (() => {
        try {
          build(novaTestInput({ encrypted: true }));
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).to.be.instanceOf(InvalidConnectionInfoError);
      expect((error as InvalidConnectionInfoError).code).to.equal('ERR_INVALID_CONNECTION_INFO');
      expect((error as InvalidConnectionInfoError).field).to.equal('data.encrypted');
    });

    it('writes LUKS for an encrypted volume with its secret', () => {
      const config = buildGuestDiskConfig(novaTestInput({ encrypted: true }), VIRTIO_VDE, SOURCE_PATH, { encryptionSecretUuid: SECRET_UUID });
      expect(config.encryption).to.deep.equal({ format: 'luks', secretUuid: SECRET_UUID });
    });

    for (const bad of ['', 'not-a-uuid', `${SECRET_UUID}"/><x y="`, `${SECRET_UUID}\n`, 'x'.repeat(10_000)]) {
      it(`refuses the secret uuid ${JSON.stringify(bad).slice(0, 40)}`, () => {
        expect(() => buildGuestDiskConfig(novaTestInput(), VIRTIO_VDE, SOURCE_PATH, { encryptionSecretUuid: bad })).to.throw(TypeError, /^Expected encryptionSecretUuid to be a UUID, got .{0,260}$/);
      });
    }
  });

  describe('backingChain', () => {
    it('is empty (<backingStore/>) by default, for raw and qcow2 alike', () => {
      expect(build(novaTestInput()).backingChain).to.deep.equal([]);
      expect(build(novaTestInput({ format: 'qcow2' })).backingChain).to.deep.equal([]);
    });

    it('turns the gate\'s sibling names into paths next to the image', () => {
      const config = buildGuestDiskConfig(novaTestInput({ format: 'qcow2' }), VIRTIO_VDE, SOURCE_PATH, {
        backingChain: [{ name: 'volume-00000001.snap', format: 'qcow2' }, { name: 'volume-base', format: 'raw' }],
      });
      expect(config.backingChain).to.deep.equal([
        { format: 'qcow2', sourcePath: '/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001.snap' },
        { format: 'raw', sourcePath: '/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-base' },
      ]);
    });

    for (const name of ['', '.', '..', '../x', '/etc/passwd', 'a/b']) {
      it(`refuses the chain entry name ${JSON.stringify(name)}`, () => {
        expect(() => buildGuestDiskConfig(novaTestInput(), VIRTIO_VDE, SOURCE_PATH, { backingChain: [{ name, format: 'raw' }] })).to.throw(TypeError, /backingChain\[0\]\.name/);
      });
    }

    it('refuses a chain entry format other than raw or qcow2', () => {
      const backingChain = [{ name: 'base', format: 'vmdk' }] as unknown as Array<{ name: string; format: 'raw' }>;
      expect(() => buildGuestDiskConfig(novaTestInput(), VIRTIO_VDE, SOURCE_PATH, { backingChain })).to.throw(TypeError, /backingChain\[0\]\.format/);
    });
  });

  it('does not throw for null where JSON input leaves it', () => {
    const ci = untyped(
      { format: null, access_mode: null, discard: null, qos_specs: null, logical_block_size: null, volume_id: null },
      { serial: null, multiattach: null },
    );
    expect(build(ci)).to.deep.equal(build(novaTestInput()));
  });

  it('returns a new object each time, sharing nothing with the input', () => {
    const qos_specs = { total_iops_sec: '500' };
    const ci = novaTestInput({ qos_specs });
    const first = build(ci);
    expect(first.iotune).not.to.equal(qos_specs);
    expect(build(ci)).not.to.equal(first);
  });
});
