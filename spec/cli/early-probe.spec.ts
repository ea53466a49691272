import { expect } from 'chai';
import { startProbeEarly, takeEarlyProbe } from '../../lib/cli/early-probe.js';

describe('early probe (status)', () => {
  it('starts a probe child at once, and hands that probe over exactly once', async function () {
    this.timeout(20_000);
    expect(takeEarlyProbe()).to.equal(undefined);
    startProbeEarly();
    const probe = takeEarlyProbe();
    try {
      expect(probe).to.not.equal(undefined);
      expect(takeEarlyProbe()).to.equal(undefined);
      // The child was started before any call: the first call finds it running.
      expect(await probe!.stat('/', { timeoutMs: 10_000 })).to.include({ isDirectory: true });
      expect(probe!.probeChildPids).to.have.length(1);
    } finally {
      probe?.close();
    }
  });
});
