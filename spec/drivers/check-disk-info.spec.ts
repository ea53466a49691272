import { expect } from 'chai';
import { checkDiskInfo, DISK_BUSES, DISK_DEVICE_TYPES } from '../../lib/drivers/check-disk-info.js';
import type { DiskInfo } from '../../lib/drivers/connection-info.js';
import { InvalidConnectionInfoError } from '../../lib/errors.js';
import * as packageRoot from '../../lib/index.js';

/** What a JavaScript caller can pass: anything. */
function check(value: unknown): void {
  checkDiskInfo(value as DiskInfo);
}

describe('checkDiskInfo()', () => {
  it('accepts every bus and device type of libvirt\'s schema, and the usual target names', () => {
    for (const bus of DISK_BUSES) for (const type of DISK_DEVICE_TYPES) expect(() => { check({ bus, dev: 'vdb', type }); }).not.to.throw();
    for (const dev of ['vda', 'vdaa', 'sdb', 'hdc', 'xvda', 'fda', 'ubda', 'vd_1']) expect(() => { check({ bus: 'virtio', dev, type: 'disk' }); }, dev).not.to.throw();
    expect(() => { check({ bus: 'scsi', dev: 'sdb', type: 'disk', unit: 0 }); }).not.to.throw();
  });

  it('has the sets of libvirt\'s domaincommon.rng, without the retired uml bus', () => {
    expect(DISK_BUSES).to.have.members(['ide', 'fdc', 'scsi', 'virtio', 'xen', 'usb', 'sata', 'sd']);
    expect(DISK_DEVICE_TYPES).to.have.members(['disk', 'cdrom', 'floppy', 'lun']);
  });

  const refused: Array<[string, unknown, RegExp]> = [
    ['a missing object', null, /^Invalid connection info: disk_info must be an object$/],
    ['a string', 'virtio', /^Invalid connection info: disk_info must be an object$/],
    ['a misspelt bus', { bus: 'virtoi', dev: 'vdb', type: 'disk' }, /disk_info\.bus must be one of ide, fdc, scsi, virtio, xen, usb, sata, sd, got "virtoi"/],
    ['the retired uml bus', { bus: 'uml', dev: 'vdb', type: 'disk' }, /disk_info\.bus must be one of/],
    ['a bus in upper case', { bus: 'VIRTIO', dev: 'vdb', type: 'disk' }, /disk_info\.bus must be one of/],
    ['an unknown device type', { bus: 'virtio', dev: 'vdb', type: 'tape' }, /disk_info\.type must be one of disk, cdrom, floppy, lun, got "tape"/],
    ['a missing type', { bus: 'virtio', dev: 'vdb' }, /disk_info\.type must be a simple name, got undefined/],
    ['markup in dev', { bus: 'virtio', dev: 'vdb"/><x', type: 'disk' }, /disk_info\.dev must be a simple name/],
    ['a space in dev', { bus: 'virtio', dev: 'vd b', type: 'disk' }, /disk_info\.dev must be a simple name, got "vd b"/],
    ['a dev libvirt refuses', { bus: 'virtio', dev: 'nvme0', type: 'disk' }, /disk_info\.dev must be fd, hd, sd, vd, xvd or ubd followed by letters, digits or _, got "nvme0"/],
    ['a dev with only a prefix', { bus: 'virtio', dev: 'vd', type: 'disk' }, /disk_info\.dev must be fd, hd/],
    ['a dev with a dot', { bus: 'virtio', dev: 'vd.b', type: 'disk' }, /disk_info\.dev must be fd, hd/],
    ['a negative unit', { bus: 'scsi', dev: 'sdb', type: 'disk', unit: -1 }, /disk_info\.unit must be a non-negative integer, got -1/],
    ['a fractional unit', { bus: 'scsi', dev: 'sdb', type: 'disk', unit: 1.5 }, /disk_info\.unit must be a non-negative integer/],
    ['a unit given as text', { bus: 'scsi', dev: 'sdb', type: 'disk', unit: '1' }, /disk_info\.unit must be a non-negative integer, got "1"/],
    ['a bigint unit', { bus: 'scsi', dev: 'sdb', type: 'disk', unit: 1n }, /disk_info\.unit must be a non-negative integer, got 1$/],
    ['a NaN unit', { bus: 'scsi', dev: 'sdb', type: 'disk', unit: NaN }, /disk_info\.unit must be a non-negative integer, got NaN$/],
    ['an unsafe unit', { bus: 'scsi', dev: 'sdb', type: 'disk', unit: 2 ** 53 }, /disk_info\.unit/],
  ];
  for (const [title, value, message] of refused) {
    it(`refuses ${title} with InvalidConnectionInfoError naming the field`, () => {
      expect(() => { check(value); }).to.throw(InvalidConnectionInfoError, message);
    });
  }

  it('refuses a misspelt bus at compile time too', () => {
    // @ts-expect-error 'virtoi' is not a DiskBus
    const typo: DiskInfo = { bus: 'virtoi', dev: 'vdb', type: 'disk' };
    expect(() => { checkDiskInfo(typo); }).to.throw(InvalidConnectionInfoError);
  });

  it('is exported from the package root with its sets', () => {
    expect(packageRoot.checkDiskInfo).to.equal(checkDiskInfo);
    expect(packageRoot.DISK_BUSES).to.equal(DISK_BUSES);
    expect(packageRoot.DISK_DEVICE_TYPES).to.equal(DISK_DEVICE_TYPES);
  });
});
