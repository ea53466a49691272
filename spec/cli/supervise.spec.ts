import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { superviseChild } from '../../lib/cli/supervise.js';
import { childEnv } from '../support/child-env.js';

const CHILD = fileURLToPath(new URL('fixtures/supervised-child.ts', import.meta.url));
const QUIET = { stdio: ['ignore', 'ignore', 'ignore'], env: childEnv() } as const;

describe('superviseChild()', () => {
  it('resolves to the exit status the child reports, with the marker gone from its environment', async () => {
    expect(await superviseChild(CHILD, ['report', '3'], QUIET)).to.equal(3);
    expect(await superviseChild(CHILD, ['report', '0'], QUIET)).to.equal(0);
  });

  it('kills a child that reported but cannot exit (a thread stuck on a hung mount), keeping its status', async () => {
    const started = Date.now();
    expect(await superviseChild(CHILD, ['report-and-hang', '2'], { ...QUIET, graceMs: 100 })).to.equal(2);
    expect(Date.now() - started).to.be.below(10_000);
  });

  it('resolves to the exit status of a child that ended without reporting', async () => {
    expect(await superviseChild(CHILD, ['exit', '5'], QUIET)).to.equal(5);
  });

  it('resolves to 128 + the signal for a child killed by one, as a shell does', async () => {
    expect(await superviseChild(CHILD, ['die', '0'], QUIET)).to.equal(128 + 15);
  });

  it('leaves no signal handler behind', async () => {
    const before = process.listenerCount('SIGINT');
    await superviseChild(CHILD, ['report', '0'], QUIET);
    expect(process.listenerCount('SIGINT')).to.equal(before);
  });
});
