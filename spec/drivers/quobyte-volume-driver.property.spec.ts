/**
 * Property-based tests: random interleavings of connects and disconnects, and hostile input.
 * fast-check's scheduler decides when each command the driver runs completes, so connects and
 * disconnects of different guests and exports overlap in every order it can find.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import { MemoryAttachmentStore } from '../../lib/attachments/memory-attachment-store.js';
import type { Command, CommandResult, RunOptions } from '../../lib/commands/command-runner.js';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { InvalidConnectionInfoError } from '../../lib/errors.js';
import { FakeHost } from '../support/fake-host.js';

const BASE = '/var/lib/nova/mnt';
const EXPORTS = ['registry-a/vol', 'registry-b:7861/vol', 'reg1,reg2/shared'];
const GUESTS = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003'];
const RUNS = Number(process.env.PROPERTY_RUNS ?? 500);

interface Operation {
  kind: 'connect' | 'disconnect';
  guest: number;
  exportIndex: number;
  volume: number;
}

const operation: fc.Arbitrary<Operation> = fc.record({
  kind: fc.constantFrom('connect' as const, 'disconnect' as const),
  guest: fc.integer({ min: 0, max: GUESTS.length - 1 }),
  exportIndex: fc.integer({ min: 0, max: EXPORTS.length - 1 }),
  volume: fc.integer({ min: 0, max: 1 }),
});

function ci(op: Operation): ConnectionInfo {
  return { driver_volume_type: 'quobyte', data: { export: EXPORTS[op.exportIndex] ?? '', name: `volume-${op.volume}`, volume_id: `vol-${op.exportIndex}-${op.volume}` } };
}

describe('QuobyteVolumeDriver (properties)', () => {
  // Each run builds a FakeHost of sinon spies; let them go as the runs go.
  const releaseSpies = (): void => { sinon.restore(); };

  it('mounts a share exactly when it has attachments, never unmounts under a guest, and leaves no lock behind', async function () {
    this.timeout(120_000);
    let interleavings = 0;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.array(operation, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }), async (scheduler, steps) => {
        interleavings += 1;
        const host = new FakeHost();
        const store = new MemoryAttachmentStore();
        const violations: string[] = [];
        const run = host.runner.run;
        host.runner.run = Object.assign(async (command: Command, options?: RunOptions): Promise<CommandResult> => {
          await scheduler.schedule(Promise.resolve(), `${command.file} ${command.args.join(' ')}`);
          if (command.file === 'umount') {
            const mountPath = command.args.at(-1) ?? '';
            const attached = await store.list(mountPath);
            if (attached.length > 0) violations.push(`umount ${mountPath} while ${attached.join(', ')} attached`);
          }
          return run(command, options);
        }, { }) as typeof host.runner.run;
        const driver = new QuobyteVolumeDriver({ mountPointBase: BASE, runner: host.runner, probe: host.probe, attachments: store, systemd: false });

        for (const step of steps) {
          const started = step.map((op) => {
            const instance = { uuid: GUESTS[op.guest] ?? '' };
            return op.kind === 'connect' ? driver.connectVolume(ci(op), instance) : driver.disconnectVolume(ci(op), instance);
          });
          await scheduler.waitFor(Promise.all(started));
          // Settled: check the invariants against the mount table.
          const table = await store.entries();
          for (const exportName of EXPORTS) {
            const mountPath = driver.getMountPath({ data: { export: exportName, name: 'x' } });
            const attached = (table.get(mountPath) ?? []).length > 0;
            expect(host.isMounted(mountPath), `${mountPath} mounted with ${String(attached)} attachments`).to.equal(attached);
            expect(host.mounts.filter((entry) => entry.mountPoint === mountPath).length).to.be.at.most(1);
          }
          expect(violations).to.deep.equal([]);
          expect(driver.activeLockCount).to.equal(0);
        }
        releaseSpies();
      }),
      { numRuns: RUNS },
    );
    expect(interleavings).to.be.at.least(RUNS);
  });

  describe('hostile connection info', function () {
    // Hundreds of fake hosts: seconds on a quiet machine, much more on a loaded one.
    this.timeout(120_000);
    const controlCharacter = fc.integer({ min: 0, max: 31 }).map((code) => String.fromCharCode(code));
    const text = fc.string({ maxLength: 12 });
    const hostileExport = fc.oneof(
      text.map((rest) => `-${rest}`),
      text.map((rest) => `quobyte://-${rest}`),
      fc.tuple(text, controlCharacter, text).map(([a, c, b]) => `reg${a}${c}${b}/vol`),
      fc.tuple(fc.constantFrom(' ', '\t'), text).map(([space, rest]) => `reg${space}${rest}/vol`),
      fc.constantFrom('registry', 'registry/', '/vol', 'registry/..', 'registry/.', 'reg:99999/vol', 'reg/vol/../../etc', 'reg/a/b', ''),
    );
    const hostileName = fc.oneof(
      fc.tuple(text, text).map(([a, b]) => `${a}/${b}`),
      fc.constantFrom('.', '..', '', '/etc/passwd', '../../../etc/shadow'),
      fc.tuple(text, controlCharacter, text).map(([a, c, b]) => `${a}${c}${b}`),
      fc.string({ minLength: 256, maxLength: 300 }).filter((name) => !name.includes('/')).map((name) => `x${name}`),
    );
    const hostileCi = fc.oneof(
      hostileExport.map((exportName) => ({ data: { export: exportName, name: 'volume-1' } })),
      hostileName.map((name) => ({ data: { export: 'registry/vol', name } })),
      fc.record({ data: fc.record({ export: fc.constant('registry/vol'), name: fc.constant('volume-1'), format: fc.string().filter((f) => f !== 'raw' && f !== 'qcow2') }) }),
      fc.record({ data: fc.record({ export: fc.constant('registry/vol'), name: fc.constant('volume-1'), access_mode: fc.string().filter((m) => m !== 'ro' && m !== 'rw') }) }),
      fc.oneof(fc.constant(null), fc.constant(undefined), fc.integer(), fc.string(), fc.constant([])),
      fc.record({ data: fc.oneof(fc.constant(null), fc.integer(), fc.string()) }),
      fc.record({ data: fc.record({ export: fc.oneof(fc.integer(), fc.constant(null), fc.boolean()), name: fc.constant('volume-1') }) }),
    );

    it('is always refused with InvalidConnectionInfoError, and nothing runs', async () => {
      let tried = 0;
      await fc.assert(
        fc.asyncProperty(hostileCi, async (hostile) => {
          tried += 1;
          const host = new FakeHost();
          const driver = new QuobyteVolumeDriver({ mountPointBase: BASE, runner: host.runner, probe: host.probe, systemd: false });
          const guest = { uuid: GUESTS[0] ?? '' };
          for (const call of [() => driver.connectVolume(hostile as ConnectionInfo, guest), () => driver.disconnectVolume(hostile as ConnectionInfo, guest)]) {
            const error = await call().then(() => undefined, (e: unknown) => e);
            expect(error).to.be.instanceOf(InvalidConnectionInfoError);
          }
          expect(() => driver.getConfig(hostile as ConnectionInfo, { bus: 'virtio', dev: 'vdb', type: 'disk' })).to.throw(InvalidConnectionInfoError);
          expect(host.runner.run.callCount).to.equal(0);
          expect(host.probe.ensureDirectory.callCount).to.equal(0);
          expect(host.probe.listMounts.callCount).to.equal(0);
          releaseSpies();
        }),
        { numRuns: RUNS * 5 },
      );
      expect(tried).to.be.at.least(RUNS * 5);
    });
  });
});
