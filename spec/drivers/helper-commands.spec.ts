import { expect } from 'chai';
import { helperCommands } from '../../lib/drivers/helper-commands.js';

describe('helperCommands()', () => {
  const PREFIX = ['sudo', '-n', '/usr/local/bin/libvirt-volume-helper'];

  it('puts the verb and the export after the prefix, and no path', () => {
    const commands = helperCommands(PREFIX, 'reg:7861/vol');
    expect(commands.mount).to.deep.equal({ file: 'sudo', args: ['-n', '/usr/local/bin/libvirt-volume-helper', 'mount', 'reg:7861/vol'] });
    expect(commands.unmount(false).args).to.deep.equal(['-n', '/usr/local/bin/libvirt-volume-helper', 'umount', 'reg:7861/vol']);
    expect(commands.unmount(true).args).to.deep.equal(['-n', '/usr/local/bin/libvirt-volume-helper', 'umount', 'reg:7861/vol', '--lazy']);
    expect(commands.abort.args).to.deep.equal(['-n', '/usr/local/bin/libvirt-volume-helper', 'abort', 'reg:7861/vol']);
  });

  it('runs the helper itself when the prefix is only its path', () => {
    expect(helperCommands(['/usr/local/bin/libvirt-volume-helper'], 'reg/v').mount).to.deep.equal({ file: '/usr/local/bin/libvirt-volume-helper', args: ['mount', 'reg/v'] });
  });

  it('refuses an empty prefix with a TypeError', () => {
    expect(() => helperCommands([], 'reg/v')).to.throw(TypeError);
    expect(() => helperCommands([''], 'reg/v')).to.throw(TypeError);
  });
});
