import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import type { Command, CommandResult, CommandRunner } from '../../lib/commands/command-runner.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { CommandFailedError, VolumeUnresponsiveError } from '../../lib/errors.js';
import { HELPER_EXIT } from '../../lib/drivers/helper-commands.js';
import { FakeHost } from '../support/fake-host.js';

use(chaiAsPromised);

const HELPER = ['sudo', '-n', '/usr/local/bin/libvirt-volume-helper'];
const CI = { driver_volume_type: 'quobyte', data: { export: 'registry/vol', name: 'volume-1' } };
const GUEST = { uuid: '11111111-1111-4111-8111-111111111111' };

/** The helper as sudo runs it: `abort` refused (files open under the mount, seen as root). */
class HelperRunner implements CommandRunner {
  readonly argv: string[] = [];
  run(command: Command): Promise<CommandResult> {
    this.argv.push([command.file, ...command.args].join(' '));
    if (command.args.includes('abort') && !command.args.includes('--force')) {
      return Promise.reject(new CommandFailedError({ command, exitCode: HELPER_EXIT.refused, stdout: '', stderr: 'in use' }));
    }
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' });
  }
}

describe('QuobyteVolumeDriver with privilegedHelper', () => {
  it('mounts, unmounts and aborts only through the helper, never with a path', async () => {
    const host = new FakeHost();
    const runner = new HelperRunner();
    const driver = new QuobyteVolumeDriver({ mountPointBase: '/mnt', runner, probe: host.probe, systemd: false, privilegedHelper: HELPER });
    host.addQuobyteMount(driver.getMountPath(CI), 'quobyte@registry/vol');
    host.stats.set(driver.getMountPath(CI), { errno: 'ENOTCONN' });
    await driver.connectVolume(CI, GUEST).catch(() => undefined);
    expect(runner.argv.slice(0, 2)).to.deep.equal([`${HELPER.join(' ')} umount registry/vol`, `${HELPER.join(' ')} mount registry/vol`]);
    expect(runner.argv.every((argv) => !argv.includes('/mnt'))).to.equal(true);
  });

  it('leaves a hung share alone when the helper refuses the abort (it sees files open the agent cannot)', async () => {
    const host = new FakeHost();
    const runner = new HelperRunner();
    const driver = new QuobyteVolumeDriver({ mountPointBase: '/mnt', runner, probe: host.probe, systemd: false, privilegedHelper: HELPER });
    host.addQuobyteMount(driver.getMountPath(CI), 'quobyte@registry/vol');
    host.stats.set(driver.getMountPath(CI), { errno: 'ETIMEDOUT' });
    await expect(driver.connectVolume(CI, GUEST)).to.be.rejectedWith(VolumeUnresponsiveError, /left alone/);
    expect(runner.argv).to.deep.equal([`${HELPER.join(' ')} abort registry/vol`]);
    expect(host.isMounted(driver.getMountPath(CI))).to.equal(true);
  });

  it('passes --force to the helper only for a deliberate repair', async () => {
    const host = new FakeHost();
    const runner = new HelperRunner();
    const driver = new QuobyteVolumeDriver({ mountPointBase: '/mnt', runner, probe: host.probe, systemd: false, privilegedHelper: HELPER });
    host.addQuobyteMount(driver.getMountPath(CI), 'quobyte@registry/vol');
    host.stats.set(driver.getMountPath(CI), { errno: 'ETIMEDOUT' });
    await driver.connectVolume(CI, GUEST, { forceRepair: true }).catch(() => undefined);
    expect(runner.argv.slice(0, 2)).to.deep.equal([`${HELPER.join(' ')} abort registry/vol --force`, `${HELPER.join(' ')} umount registry/vol --lazy`]);
  });

  it('reconciles through the helper too: the export comes from the mount\'s source, never a path', async () => {
    const host = new FakeHost();
    const runner = new HelperRunner();
    const driver = new QuobyteVolumeDriver({ mountPointBase: '/mnt', runner, probe: host.probe, systemd: false, privilegedHelper: HELPER });
    host.addQuobyteMount(driver.getMountPath(CI), 'quobyte@registry/vol');
    expect((await driver.reconcile()).unmounted).to.deep.equal([driver.getMountPath(CI)]);
    expect(runner.argv).to.deep.equal([`${HELPER.join(' ')} umount registry/vol`]);
  });
});
