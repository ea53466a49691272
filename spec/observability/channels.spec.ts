import diagnosticsChannel from 'node:diagnostics_channel';
import { expect } from 'chai';
import sinon from 'sinon';
import * as packageRoot from '../../lib/index.js';
import { CHANNELS, publish, subscribeChannel, type MountMessage } from '../../lib/observability/channels.js';

describe('observability channels', () => {
  afterEach(() => {
    sinon.restore();
  });

  it('names every channel libvirt-volume-driver:<kind>, the kinds the design lists', () => {
    expect(Object.keys(CHANNELS)).to.have.members(['mount', 'unmount', 'reuse', 'repair', 'unresponsive', 'busy', 'command']);
    for (const [kind, name] of Object.entries(CHANNELS)) expect(name).to.equal(`libvirt-volume-driver:${kind}`);
  });

  it('delivers a published message to a diagnostics_channel subscriber, as it is', () => {
    const seen: unknown[] = [];
    const listener = (message: unknown, name: string | symbol): void => {
      seen.push([name, message]);
    };
    diagnosticsChannel.subscribe('libvirt-volume-driver:mount', listener);
    try {
      const message: MountMessage = { mountPath: '/mnt/a', export: 'reg/vol', durationMs: 12 };
      publish('mount', message);
      expect(seen).to.deep.equal([['libvirt-volume-driver:mount', message]]);
      expect((seen[0] as unknown[])[1]).to.equal(message);
    } finally {
      diagnosticsChannel.unsubscribe('libvirt-volume-driver:mount', listener);
    }
  });

  it('does not build the message while nobody listens, and builds it once when someone does', () => {
    const build = sinon.spy((): MountMessage => ({ mountPath: '/mnt/a', export: 'reg/vol', durationMs: 1 }));
    publish('mount', build);
    expect(build.callCount).to.equal(0);
    const seen: MountMessage[] = [];
    const unsubscribe = subscribeChannel('mount', (message) => seen.push(message));
    publish('mount', build);
    unsubscribe();
    publish('mount', build);
    expect(build.callCount).to.equal(1);
    expect(seen).to.deep.equal([{ mountPath: '/mnt/a', export: 'reg/vol', durationMs: 1 }]);
  });

  it('keeps channels apart', () => {
    const mounts: unknown[] = [];
    const unsubscribe = subscribeChannel('mount', (message) => mounts.push(message));
    publish('busy', { mountPath: '/mnt/a', argv: ['umount', '/mnt/a'] });
    publish('unmount', { mountPath: '/mnt/a', lazy: false, reason: 'last-detach' });
    unsubscribe();
    expect(mounts).to.deep.equal([]);
  });

  it('is exported from the package root', () => {
    expect(packageRoot.CHANNELS).to.equal(CHANNELS);
    expect(packageRoot.subscribeChannel).to.equal(subscribeChannel);
  });
});
