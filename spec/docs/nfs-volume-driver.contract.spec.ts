import { NfsVolumeDriver } from '../../docs/examples/nfs-volume-driver.js';
import { describeVolumeDriverContract } from '../drivers/volume-driver-contract.js';

describeVolumeDriverContract('NfsVolumeDriver (docs/examples)', (_host, options) => ({
  driver: new NfsVolumeDriver({ ...options, mountOptions: 'vers=4.2,hard' }),
  connectionInfo: (data = {}) => ({ driver_volume_type: 'nfs', data: { export: 'nfs-server.example.com:/srv/cinder', name: 'volume-00000001', ...data } }),
  otherExport: '[fd00::5]:/srv/other',
}));
