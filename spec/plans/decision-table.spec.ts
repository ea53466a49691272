/**
 * The driver's specification, as a table: for every mount state × who is attached × operation,
 * the plan the pure decision functions give. Each row is one rule; a change of behaviour is a
 * change of a row here.
 */
import { expect } from 'chai';
import { StaleVolumeMountError, type StaleReason } from '../../lib/errors.js';
import type { MountEntry } from '../../lib/filesystem/file-system-probe.js';
import { decideConnect } from '../../lib/plans/decide-connect.js';
import { decideDisconnect } from '../../lib/plans/decide-disconnect.js';
import { decideRepair } from '../../lib/plans/decide-repair.js';
import type { MountHealth, MountObservation } from '../../lib/plans/observation.js';
import type { MountCommands, PlanStep } from '../../lib/plans/plan-step.js';

const MOUNT = '/base/c94ed34ada0acf45c1213beb1fc52ce6';
const ME = 'guest-a/vol';
const OTHER = 'guest-b/vol';
const ENTRY: MountEntry = { mountPoint: MOUNT, source: 'quobyte@reg/vol', fsType: 'fuse.quobyte', options: [], device: '0:57' };
const COMMANDS: MountCommands = {
  mount: { file: 'mount.quobyte', args: ['--disable-xattrs', 'reg/vol', MOUNT] },
  unmount: (lazy) => ({ file: 'umount', args: lazy ? ['-l', MOUNT] : [MOUNT] }),
};

function stale(reason: StaleReason): MountHealth {
  return { state: 'stale', entry: ENTRY, reason, error: new StaleVolumeMountError(MOUNT, reason) };
}

/** The health states, with the extra looks the observation takes for each. */
const STATES: Record<string, Pick<MountObservation, 'health' | 'directoryExists' | 'openBy'>> = {
  absent: { health: { state: 'absent' }, directoryExists: false },
  'absent, directory left': { health: { state: 'absent' }, directoryExists: true },
  healthy: { health: { state: 'healthy', entry: ENTRY, stat: { size: 0, mode: 0o40755, uid: 0, gid: 0, isFile: false, isDirectory: true, isSymbolicLink: false } } },
  'known healthy (fast path)': { health: { state: 'known-healthy' } },
  'stale: client gone': { health: stale('not-connected') },
  'stale: root not size 0': { health: stale('nonzero-size') },
  'hung: no answer in time': { health: stale('unresponsive'), openBy: 0 },
  'hung, files open': { health: stale('unresponsive'), openBy: 2 },
  foreign: { health: { state: 'foreign', entry: { ...ENTRY, fsType: 'tmpfs', source: 'tmpfs' } } },
};

const ATTACHED: Record<string, string[]> = { none: [], 'only this one': [ME], 'others too': [ME, OTHER], 'only others': [OTHER] };

/** A step as one short word: `run:umount -l`, `refuse:ERR_VOLUME_UNRESPONSIVE`, ... */
function brief(step: PlanStep): string {
  switch (step.kind) {
    case 'run':
      return `run:${[step.command.file, ...step.command.args.filter((arg) => arg.startsWith('-') && arg !== '--disable-xattrs')].join(' ')}${step.fallback === undefined ? '' : '|-l'}`;
    case 'refuse':
      return `refuse:${step.error.code}`;
    default:
      return step.kind;
  }
}

const MOUNT_AND_RECORD = 'run:mount.quobyte, verify-mount, check-image, record-attachment';
const MOUNT_ONLY = 'run:mount.quobyte, verify-mount, check-image';
const UNRESPONSIVE = 'refuse:ERR_VOLUME_UNRESPONSIVE';
const FOREIGN = 'refuse:ERR_INVALID_VOLUME';

const HEALTHY: Record<string, [string, string]> = {
    none: ['reused: nothing-to-do, check-image, record-attachment', 'unmounted: run:umount, remove-directory'],
    'only this one': ['reused: nothing-to-do, check-image', 'unmounted: remove-attachment, run:umount, remove-directory'],
    'others too': ['reused: nothing-to-do, check-image', 'in-use: remove-attachment, nothing-to-do'],
    'only others': ['reused: nothing-to-do, check-image, record-attachment', 'not-attached: nothing-to-do'],
  };

/** state → attached → [connect, disconnect], each `action: steps`. */
const TABLE: Record<string, Record<string, [string, string]>> = {
  absent: {
    none: [`mounted: create-directory, ${MOUNT_AND_RECORD}`, 'not-mounted: nothing-to-do'],
    'only this one': [`mounted: create-directory, ${MOUNT_ONLY}`, 'not-mounted: remove-attachment, nothing-to-do'],
    'others too': [`mounted: create-directory, ${MOUNT_ONLY}`, 'in-use: remove-attachment, nothing-to-do'],
    'only others': [`mounted: create-directory, ${MOUNT_AND_RECORD}`, 'not-attached: nothing-to-do'],
  },
  // The directory left behind is checked again before the mount (a link planted there).
  'absent, directory left': {
    none: [`mounted: create-directory, ${MOUNT_AND_RECORD}`, 'not-mounted: nothing-to-do, remove-directory'],
    'only this one': [`mounted: create-directory, ${MOUNT_ONLY}`, 'not-mounted: remove-attachment, nothing-to-do, remove-directory'],
    'others too': [`mounted: create-directory, ${MOUNT_ONLY}`, 'in-use: remove-attachment, nothing-to-do'],
    'only others': [`mounted: create-directory, ${MOUNT_AND_RECORD}`, 'not-attached: nothing-to-do'],
  },
  healthy: HEALTHY,
  // The fast path decides exactly as a full look would.
  'known healthy (fast path)': HEALTHY,
  'stale: client gone': {
    none: [`repaired: run:umount|-l, ${MOUNT_AND_RECORD}`, 'unmounted: run:umount|-l, remove-directory'],
    'only this one': [`repaired: run:umount|-l, ${MOUNT_ONLY}`, 'unmounted: remove-attachment, run:umount|-l, remove-directory'],
    'others too': [`repaired: run:umount|-l, ${MOUNT_ONLY}`, 'in-use: remove-attachment, nothing-to-do'],
    'only others': [`repaired: run:umount|-l, ${MOUNT_AND_RECORD}`, 'not-attached: nothing-to-do'],
  },
  'stale: root not size 0': {
    none: [`repaired: run:umount|-l, ${MOUNT_AND_RECORD}`, 'unmounted: run:umount|-l, remove-directory'],
    'only this one': [`repaired: run:umount|-l, ${MOUNT_ONLY}`, 'unmounted: remove-attachment, run:umount|-l, remove-directory'],
    'others too': [`repaired: run:umount|-l, ${MOUNT_ONLY}`, 'in-use: remove-attachment, nothing-to-do'],
    'only others': [`repaired: run:umount|-l, ${MOUNT_AND_RECORD}`, 'not-attached: nothing-to-do'],
  },
  'hung: no answer in time': {
    none: [`repaired: abort-fuse, run:umount -l, ${MOUNT_AND_RECORD}`, 'unmounted: abort-fuse, run:umount -l, remove-directory'],
    'only this one': [`repaired: ${UNRESPONSIVE}`, 'unmounted: remove-attachment, abort-fuse, run:umount -l, remove-directory'],
    'others too': [`repaired: ${UNRESPONSIVE}`, 'in-use: remove-attachment, nothing-to-do'],
    'only others': [`repaired: ${UNRESPONSIVE}`, 'not-attached: nothing-to-do'],
  },
  'hung, files open': {
    none: [`repaired: ${UNRESPONSIVE}`, 'busy: nothing-to-do'],
    'only this one': [`repaired: ${UNRESPONSIVE}`, 'busy: remove-attachment, nothing-to-do'],
    'others too': [`repaired: ${UNRESPONSIVE}`, 'in-use: remove-attachment, nothing-to-do'],
    'only others': [`repaired: ${UNRESPONSIVE}`, 'not-attached: nothing-to-do'],
  },
  foreign: {
    none: [`mounted: ${FOREIGN}`, 'not-mounted: nothing-to-do'],
    'only this one': [`mounted: ${FOREIGN}`, 'not-mounted: remove-attachment, nothing-to-do'],
    'others too': [`mounted: ${FOREIGN}`, 'in-use: remove-attachment, nothing-to-do'],
    'only others': [`mounted: ${FOREIGN}`, 'not-attached: nothing-to-do'],
  },
};

function observation(state: string, attached: string): MountObservation {
  return { mountPath: MOUNT, devicePath: `${MOUNT}/vol`, attachmentId: ME, attachments: ATTACHED[attached] ?? [], ...STATES[state], health: STATES[state]?.health };
}

describe('the decision table (the driver\'s specification)', () => {
  for (const [state, rows] of Object.entries(TABLE)) {
    describe(state, () => {
      for (const [attached, [connect, disconnect]] of Object.entries(rows)) {
        it(`attached: ${attached} → connect ${connect.split(':')[0]}, disconnect ${disconnect.split(':')[0]}`, () => {
          const settings = { forceRepair: false };
          const c = decideConnect(observation(state, attached), settings, COMMANDS);
          expect(`${c.action}: ${c.steps.map(brief).join(', ')}`).to.equal(connect);
          const d = decideDisconnect(observation(state, attached), settings, COMMANDS);
          expect(`${d.reason}: ${d.steps.map(brief).join(', ')}`).to.equal(disconnect);
        });
      }
    });
  }

  it('covers every state × attachment combination', () => {
    expect(Object.keys(TABLE)).to.deep.equal(Object.keys(STATES));
    for (const rows of Object.values(TABLE)) expect(Object.keys(rows)).to.deep.equal(Object.keys(ATTACHED));
  });

  describe('forceRepair (an operator\'s deliberate act)', () => {
    it('repairs a hung mount in use: abort, lazy unmount, mount', () => {
      const plan = decideConnect(observation('hung, files open', 'others too'), { forceRepair: true }, COMMANDS);
      expect(plan.steps.map(brief)).to.deep.equal(['abort-fuse', 'run:umount -l', 'run:mount.quobyte', 'verify-mount', 'check-image']);
    });
  });

  describe('a deliberate repair (repairMount, libvirt-volume repair): removal and mount, nothing recorded', () => {
    const REMOVE_MOUNT = 'run:mount.quobyte, verify-mount';
    /** state → attached → [without force, with force]. */
    const REPAIR: Record<string, Partial<Record<string, [string, string]>>> = {
      absent: { none: ['not-mounted: nothing-to-do', 'not-mounted: nothing-to-do'] },
      'absent, directory left': { 'only this one': ['not-mounted: nothing-to-do', 'not-mounted: nothing-to-do'] },
      healthy: { 'others too': ['healthy: nothing-to-do', 'healthy: nothing-to-do'] },
      'known healthy (fast path)': { none: ['healthy: nothing-to-do', 'healthy: nothing-to-do'] },
      'stale: client gone': { 'others too': [`repaired: run:umount|-l, ${REMOVE_MOUNT}`, `repaired: run:umount|-l, ${REMOVE_MOUNT}`] },
      'stale: root not size 0': { none: [`repaired: run:umount|-l, ${REMOVE_MOUNT}`, `repaired: run:umount|-l, ${REMOVE_MOUNT}`] },
      'hung: no answer in time': {
        none: [`repaired: abort-fuse, run:umount -l, ${REMOVE_MOUNT}`, `repaired: abort-fuse, run:umount -l, ${REMOVE_MOUNT}`],
        'only others': [`repaired: ${UNRESPONSIVE}`, `repaired: abort-fuse, run:umount -l, ${REMOVE_MOUNT}`],
      },
      'hung, files open': { none: [`repaired: ${UNRESPONSIVE}`, `repaired: abort-fuse, run:umount -l, ${REMOVE_MOUNT}`] },
      foreign: { 'others too': [`repaired: ${FOREIGN}`, `repaired: ${FOREIGN}`] },
    };
    for (const [state, rows] of Object.entries(REPAIR)) {
      for (const [attached, [plain, forced] = ['', '']] of Object.entries(rows)) {
        it(`${state}, attached: ${attached} → ${plain.split(':')[0]}; forced: ${forced.split(':')[0]}`, () => {
          for (const [forceRepair, expected] of [[false, plain], [true, forced]] as const) {
            const plan = decideRepair(observation(state, attached), { forceRepair }, COMMANDS);
            expect(`${plan.outcome}: ${plan.steps.map(brief).join(', ')}`, `forceRepair: ${forceRepair}`).to.equal(expected);
            expect(plan.steps.map((step) => step.kind)).to.not.include.members(['record-attachment', 'check-image']);
          }
        });
      }
    }

    it('covers every state', () => {
      expect(Object.keys(REPAIR)).to.deep.equal(Object.keys(STATES));
    });

    it('says, when it refuses, what forcing does and costs', () => {
      const [refusal] = decideRepair(observation('hung: no answer in time', 'others too'), { forceRepair: false }, COMMANDS).steps;
      expect(refusal?.kind === 'refuse' ? refusal.error.message : '').to.match(/2 attachment\(s\) recorded.*--force.*ENOTCONN or ECONNABORTED/);
    });
  });

  describe('stacked mounts: the top goes first, the layer below is judged afresh, nothing is mounted on a stack', () => {
    const PEEL = 'run:umount, look-again';
    /** top layer's state, attached → [connect, disconnect, repair], with 2 of our mounts stacked. */
    const STACKED: Array<[string, string, string, string, string]> = [
      ['healthy', 'none', `repaired: ${PEEL}`, `unmounted: ${PEEL}`, `repaired: ${PEEL}`],
      // A plain unmount only: it fails while a guest has files open on that top.
      ['healthy', 'only this one', `repaired: ${PEEL}`, `unmounted: remove-attachment, ${PEEL}`, `repaired: ${PEEL}`],
      ['healthy', 'others too', `repaired: ${PEEL}`, 'in-use: remove-attachment, nothing-to-do', `repaired: ${PEEL}`],
      ['known healthy (fast path)', 'only others', `repaired: ${PEEL}`, 'not-attached: nothing-to-do', `repaired: ${PEEL}`],
      ['stale: client gone', 'others too', 'repaired: run:umount|-l, look-again', 'in-use: remove-attachment, nothing-to-do', 'repaired: run:umount|-l, look-again'],
      ['stale: root not size 0', 'only this one', 'repaired: run:umount|-l, look-again', 'unmounted: remove-attachment, run:umount|-l, look-again', 'repaired: run:umount|-l, look-again'],
      ['hung: no answer in time', 'none', 'repaired: abort-fuse, run:umount -l, look-again', 'unmounted: abort-fuse, run:umount -l, look-again', 'repaired: abort-fuse, run:umount -l, look-again'],
      // Slow is not dead, on a stack too: in use, nothing is removed.
      ['hung: no answer in time', 'only others', `repaired: ${UNRESPONSIVE}`, 'not-attached: nothing-to-do', `repaired: ${UNRESPONSIVE}`],
      ['hung, files open', 'only this one', `repaired: ${UNRESPONSIVE}`, 'busy: remove-attachment, nothing-to-do', `repaired: ${UNRESPONSIVE}`],
      ['foreign', 'none', `mounted: ${FOREIGN}`, 'not-mounted: nothing-to-do', `repaired: ${FOREIGN}`],
    ];
    for (const [state, attached, connect, disconnect, repair] of STACKED) {
      it(`top ${state}, attached: ${attached} → connect ${connect.split(':')[0]}, disconnect ${disconnect.split(':')[0]}, repair ${repair.split(':')[0]}`, () => {
        const seen = { ...observation(state, attached), layers: 2 };
        const settings = { forceRepair: false };
        const c = decideConnect(seen, settings, COMMANDS);
        expect(`${c.action}: ${c.steps.map(brief).join(', ')}`).to.equal(connect);
        const d = decideDisconnect(seen, settings, COMMANDS);
        expect(`${d.reason}: ${d.steps.map(brief).join(', ')}`).to.equal(disconnect);
        const r = decideRepair(seen, settings, COMMANDS);
        expect(`${r.outcome}: ${r.steps.map(brief).join(', ')}`).to.equal(repair);
      });
    }

    it('a healthy top found busy (a guest opened its disk through it) stays and is used; nothing is unmounted lazily', () => {
      const seen = { ...observation('healthy', 'only this one'), layers: 2, topLayerBusy: true };
      const settings = { forceRepair: false };
      expect(decideConnect(seen, settings, COMMANDS).steps.map(brief)).to.deep.equal(['nothing-to-do', 'check-image']);
      expect(decideRepair(seen, settings, COMMANDS).outcome).to.equal('healthy');
      const d = decideDisconnect({ ...seen, attachments: [] }, settings, COMMANDS);
      expect(`${d.reason}: ${d.steps.map(brief).join(', ')}`).to.equal('busy: nothing-to-do');
    });

    it('forced, a hung top in use goes (abort, lazy), and the layer below is judged next', () => {
      const seen = { ...observation('hung, files open', 'others too'), layers: 3 };
      const plan = decideConnect(seen, { forceRepair: true }, COMMANDS);
      expect(plan.steps.map(brief)).to.deep.equal(['abort-fuse', 'run:umount -l', 'look-again']);
      expect(plan.steps.at(-1)).to.deep.include({ why: `3 mounts of ours are stacked at ${MOUNT}; the one below is judged next` });
    });

    it('never mounts while more than one layer is seen, whatever the state', () => {
      for (const state of Object.keys(STATES)) {
        for (const attached of Object.keys(ATTACHED)) {
          for (const forceRepair of [false, true]) {
            const seen = { ...observation(state, attached), layers: 2 };
            for (const plan of [decideConnect(seen, { forceRepair }, COMMANDS), decideRepair(seen, { forceRepair }, COMMANDS)]) {
              const mounts = plan.steps.some((step) => step.kind === 'run' && step.purpose === 'mount');
              expect(mounts && seen.health?.state !== 'absent', `${state}, ${attached}, force ${forceRepair}`).to.equal(false);
            }
          }
        }
      }
    });
  });

  describe('through the privileged helper', () => {
    it('aborts with the helper\'s command instead of writing fusectl', () => {
      const helper = { ...COMMANDS, abort: { file: 'sudo', args: ['-n', '/usr/local/bin/libvirt-volume-helper', 'abort', 'reg/vol'] } };
      const plan = decideConnect(observation('hung: no answer in time', 'none'), { forceRepair: false }, helper);
      expect(plan.steps.slice(0, 2).map((step) => (step.kind === 'run' ? step.command.args.at(-2) : step.kind))).to.deep.equal(['abort', '-l']);
    });
  });
});
