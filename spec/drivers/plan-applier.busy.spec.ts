/**
 * Busy is told from other unmount failures by the failure's fields, not by `instanceof`: a
 * runner built with another copy of the package (or loaded through another module graph)
 * throws its own copy's `CommandFailedError`, and a busy share must still be kept, not an error.
 */
import { expect } from 'chai';
import { isBusy } from '../../lib/drivers/plan-applier.js';
import { CommandFailedError, VolumeUnmountError } from '../../lib/errors.js';

const MOUNT = '/mnt/c94ed34ada0acf45c1213beb1fc52ce6';
const UMOUNT = { file: 'umount', args: [MOUNT] };

describe('isBusy', () => {
  it('recognises umount\'s busy failure, wrapped or not, from this copy and from another', async () => {
    const copy = (await import(`${new URL('../../lib/errors.js', import.meta.url).href}?another-copy`)) as typeof import('../../lib/errors.js');
    for (const Failed of [CommandFailedError, copy.CommandFailedError]) {
      const failure = new Failed({ command: UMOUNT, exitCode: 32, stdout: '', stderr: `umount: ${MOUNT}: target is busy.\n` });
      expect(isBusy(failure), Failed === CommandFailedError ? 'this copy' : 'another copy').to.equal(true);
      expect(isBusy(new VolumeUnmountError(MOUNT, 'x', { cause: failure }))).to.equal(true);
    }
  });

  it('does not take another failure, or busy text with another exit status, for busy', () => {
    expect(isBusy(new CommandFailedError({ command: UMOUNT, exitCode: 32, stdout: '', stderr: `umount: ${MOUNT}: not mounted.\n` }))).to.equal(false);
    expect(isBusy(new CommandFailedError({ command: UMOUNT, exitCode: 1, stdout: '', stderr: 'target is busy' }))).to.equal(false);
    expect(isBusy(Object.assign(new Error('target is busy'), { exitCode: 32, stderr: 'target is busy', code: 'ERR_COMMAND_FAILED' }))).to.equal(false);
    expect(isBusy(Object.assign(new Error('EBUSY'), { code: 'EBUSY' }))).to.equal(true);
  });
});
