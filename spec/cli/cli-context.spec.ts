import { expect } from 'chai';
import { DEFAULT_MOUNT_BASE, openDriver, resolveMountBase, resolveStatePath } from '../../lib/cli/cli-context.js';
import { CliUsageError } from '../../lib/cli/cli-usage-error.js';
import { FakeHost } from '../support/fake-host.js';
import { Collector } from './cli-harness.js';

describe('cli context', () => {
  describe('resolveMountBase()', () => {
    it('takes --base, else LIBVIRT_VOLUME_MOUNT_BASE, else /var/lib/nova/mnt', () => {
      const env = { LIBVIRT_VOLUME_MOUNT_BASE: '/env' };
      expect(resolveMountBase({ base: '/flag' }, env)).to.equal('/flag');
      expect(resolveMountBase({}, env)).to.equal('/env');
      expect(resolveMountBase({}, { LIBVIRT_VOLUME_MOUNT_BASE: '' })).to.equal(DEFAULT_MOUNT_BASE);
      expect(resolveMountBase({}, undefined)).to.equal('/var/lib/nova/mnt');
    });
  });

  describe('resolveStatePath()', () => {
    it('takes --state, else LIBVIRT_VOLUME_STATE, else <base>/.libvirt-volume-attachments.json', () => {
      const env = { LIBVIRT_VOLUME_STATE: '/env.json' };
      expect(resolveStatePath({ state: '/flag.json' }, env, '/b')).to.equal('/flag.json');
      expect(resolveStatePath({}, env, '/b')).to.equal('/env.json');
      expect(resolveStatePath({}, {}, '/b')).to.equal('/b/.libvirt-volume-attachments.json');
      expect(resolveStatePath({}, {}, '/b/')).to.equal('/b/.libvirt-volume-attachments.json');
    });
  });

  describe('openDriver()', () => {
    const deps = { stdout: new Collector(), stderr: new Collector() };

    it('hands the driver the probe that status lists mounts with', () => {
      const host = new FakeHost();
      const { driver, probe } = openDriver({ ...deps, probe: host.probe }, { base: '/b' });
      expect(probe).to.equal(host.probe);
      expect(driver.mountPointBase).to.equal('/b');
    });

    it('turns an option the driver refuses into a usage error', () => {
      expect(() => openDriver(deps, { base: 'b' })).to.throw(CliUsageError, 'Expected mountPointBase to be an absolute path, got "b"');
      expect(() => openDriver(deps, { base: '/b', state: '' })).to.throw(CliUsageError, 'Expected filePath to be a non-empty string');
    });
  });
});
