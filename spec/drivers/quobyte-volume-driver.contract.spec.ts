import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { describeVolumeDriverContract } from './volume-driver-contract.js';

describeVolumeDriverContract('QuobyteVolumeDriver', (_host, options) => ({
  driver: new QuobyteVolumeDriver(options),
  connectionInfo: (data = {}) => ({ driver_volume_type: 'quobyte', data: { export: 'quobyte://192.168.1.1/volume-00001', name: 'volume-00000001', ...data } }),
  otherExport: 'registry1:7861,registry2:7861/openstack-volumes',
}));
