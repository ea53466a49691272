/**
 * The driver's events on real FUSE mounts: every channel of `lib/observability/channels.ts`
 * subscribed through one mount → reuse → repair (client killed) → hung left alone → forced
 * repair → busy → unmount cycle, each event seen once with its fields, and one `command`
 * event per command the runner ran. Plus the `logger` option: each command logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { expect } from 'chai';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { VolumeUnresponsiveError } from '../../lib/errors.js';
import { NodeFileSystemProbe } from '../../lib/filesystem/node-file-system-probe.js';
import { CHANNELS, subscribeChannel, type ChannelKind, type ChannelMessages } from '../../lib/observability/channels.js';
import type { Logger } from '../../lib/observability/logger.js';
import { RealHost, ensureFuseControl, requireRealHost } from './support/real-host.js';
import { AGENT_MODE, driverFor, helperOf, itRootAgentOnly } from './support/agent-driver.js';

const GUEST_A = { uuid: '11111111-1111-4111-8111-111111111111' };
const GUEST_B = { uuid: '22222222-2222-4222-8222-222222222222' };
const GUEST_C = { uuid: '33333333-3333-4333-8333-333333333333' };
const PROBE_TIMEOUT_MS = 1_000;
/** The kernel's FUSE attribute cache answers stat for about a second after a client stops. */
const ATTRIBUTE_CACHE_MS = 1_500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Event = { [K in ChannelKind]: { kind: K; message: ChannelMessages[K] } }[ChannelKind];

/** Every channel, subscribed; `take()` gives what came since the last take. */
class EventLog {
  #events: Event[] = [];
  /** Every event since the start, taken or not. */
  readonly all: Event[] = [];
  readonly #unsubscribe: Array<() => void> = [];

  constructor() {
    for (const kind of Object.keys(CHANNELS) as ChannelKind[]) {
      this.#unsubscribe.push(
        subscribeChannel(kind, (message) => {
          this.#events.push({ kind, message } as Event);
          this.all.push({ kind, message } as Event);
        }),
      );
    }
  }

  take(): Event[] {
    return this.#events.splice(0);
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }
}

/**
 * The events other than `command`, with each `durationMs` checked (a non-negative number) and
 * left out, so the rest can be compared whole.
 */
function described(events: readonly Event[]): Array<{ kind: ChannelKind } & Record<string, unknown>> {
  return events
    .filter((event) => event.kind !== 'command')
    .map(({ kind, message }) => {
      const { durationMs, ...rest } = message as unknown as { durationMs?: unknown } & Record<string, unknown>;
      if (kind === 'mount') expect(durationMs, 'mount durationMs').to.be.a('number').and.to.be.at.least(0);
      return { kind, ...rest };
    });
}

/** The `command` events of `events`: argv and outcome, each duration checked. */
function commandsOf(events: readonly Event[]): Array<{ argv: readonly string[]; exitCode: number | null; errorCode: string | null }> {
  return events.flatMap((event) => {
    if (event.kind !== 'command') return [];
    expect(event.message.durationMs, 'command durationMs').to.be.a('number').and.to.be.at.least(0);
    return [{ argv: event.message.argv, exitCode: event.message.exitCode, errorCode: event.message.errorCode }];
  });
}

/** Waits until `stat` of the mount fails with ENOTCONN (the killed client is gone). */
async function untilClientGone(mountPath: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const code = await stat(mountPath).then(() => undefined, (error: unknown) => (error as { code?: string }).code);
    if (code === 'ENOTCONN' || code === 'ECONNABORTED') return;
    await sleep(50);
  }
  throw new Error(`${mountPath} still answers after its client was killed`);
}

describe('driver events on real FUSE mounts (diagnostics_channel)', function () {
  this.timeout(60_000);
  let host: RealHost;
  let probe: NodeFileSystemProbe;
  let events: EventLog;
  const holders: ChildProcess[] = [];

  before(function () {
    requireRealHost(this);
    ensureFuseControl();
  });

  beforeEach(() => {
    host = new RealHost();
    probe = new NodeFileSystemProbe();
    events = new EventLog();
  });

  afterEach(() => {
    events.close();
    for (const holder of holders.splice(0)) holder.kill('SIGKILL');
    host.cleanUp();
    probe.close();
  });

  // In the agent pass the driver runs as nobody through the helper; its events come back with
  // each reply and are published again here (support/agent-driver.ts), its commands are the helper's.
  it(`publishes each event of a mount → reuse → repair → hung → forced repair → busy → unmount cycle once, with one command event per command${AGENT_MODE ? ' (as nobody, through the helper)' : ''}`, async () => {
    const { driver, runner } = driverFor(host, { probeTimeoutMs: PROBE_TIMEOUT_MS });
    const exportName = 'registry:7861/events';
    const ci: ConnectionInfo = { driver_volume_type: 'quobyte', data: { export: `quobyte://${exportName}`, name: 'volume-1' } };
    const mountPath = driver.getMountPath(ci);
    const devicePath = driver.getDevicePath(ci);
    const helper = AGENT_MODE ? ['sudo', '-n', helperOf(host)] : [];
    const argv = AGENT_MODE
      ? { mount: [...helper, 'mount', exportName], umount: [...helper, 'umount', exportName], lazyUmount: [...helper, 'umount', exportName, '--lazy'], forcedAbort: [[...helper, 'abort', exportName, '--force']] }
      : { mount: ['mount.quobyte', '--disable-xattrs', exportName, mountPath], umount: ['umount', '--no-canonicalize', mountPath], lazyUmount: ['umount', '-l', '--no-canonicalize', mountPath], forcedAbort: [] };
    const mountArgv = argv.mount;
    const ok = (command: readonly string[]): { argv: readonly string[]; exitCode: number; errorCode: null } => ({ argv: command, exitCode: 0, errorCode: null });
    const ranArgv = (): string[][] => runner.commands.map((command) => [command.file, ...command.args]);
    let ran = 0;
    /** The commands the runner ran since the last call. */
    const ranSince = (): string[][] => ranArgv().slice(ran, (ran = runner.commands.length));

    // mount
    expect(await driver.connectVolume(ci, GUEST_A)).to.include({ action: 'mounted' });
    let phase = events.take();
    expect(described(phase)).to.deep.equal([{ kind: 'mount', mountPath, export: exportName }]);
    expect(commandsOf(phase)).to.deep.equal([ok(mountArgv)]);
    expect(ranSince()).to.deep.equal([mountArgv]);
    writeFileSync(devicePath, 'guest data');

    // reuse: a second guest (under the lock), then the first again (the warm path)
    expect(await driver.connectVolume(ci, GUEST_B)).to.include({ action: 'reused' });
    expect(described(events.take())).to.deep.equal([{ kind: 'reuse', mountPath, export: exportName }]);
    expect(await driver.connectVolume(ci, GUEST_A)).to.include({ action: 'reused' });
    expect(described(events.take())).to.deep.equal([{ kind: 'reuse', mountPath, export: exportName }]);
    expect(ranSince()).to.deep.equal([]);

    // repair: the client is killed (ENOTCONN); a deliberate repair unmounts and mounts again
    host.signalClient(mountPath, 'SIGKILL');
    await untilClientGone(mountPath);
    expect(await driver.repairMount(ci)).to.deep.equal({ mountPath, outcome: 'repaired', staleReason: 'not-connected' });
    phase = events.take();
    expect(described(phase)).to.deep.equal([
      { kind: 'repair', mountPath, export: exportName, reason: 'not-connected' },
      { kind: 'unmount', mountPath, lazy: false, reason: 'repair' },
      { kind: 'mount', mountPath, export: exportName },
    ]);
    expect(commandsOf(phase)).to.deep.equal([ok(argv.umount), ok(mountArgv)]);
    expect(ranSince()).to.deep.equal([argv.umount, mountArgv]);

    // unresponsive: the client stops; a third guest's connect leaves the mount in use alone
    host.signalClient(mountPath, 'SIGSTOP');
    await sleep(ATTRIBUTE_CACHE_MS);
    const refused = await driver.connectVolume(ci, GUEST_C).then(() => undefined, (error: unknown) => error);
    expect(refused).to.be.instanceOf(VolumeUnresponsiveError);
    expect(described(events.take())).to.deep.equal([{ kind: 'unresponsive', mountPath, timeoutMs: PROBE_TIMEOUT_MS, leftAlone: true }]);
    expect(ranSince()).to.deep.equal([]);

    // a forced repair: aborted, detached lazily, mounted again
    expect(await driver.repairMount(ci, { force: true })).to.deep.equal({ mountPath, outcome: 'repaired', staleReason: 'unresponsive' });
    phase = events.take();
    expect(described(phase)).to.deep.equal([
      { kind: 'unresponsive', mountPath, timeoutMs: PROBE_TIMEOUT_MS, leftAlone: false },
      { kind: 'repair', mountPath, export: exportName, reason: 'unresponsive' },
      { kind: 'unmount', mountPath, lazy: true, reason: 'repair' },
      { kind: 'mount', mountPath, export: exportName },
    ]);
    // As root, fusectl is mounted (ensureFuseControl), so the abort is a write, not a command;
    // through the helper it is the helper's `abort --force`.
    expect(commandsOf(phase)).to.deep.equal([...argv.forcedAbort.map(ok), ok(argv.lazyUmount), ok(mountArgv)]);
    expect(ranSince()).to.deep.equal([...argv.forcedAbort, argv.lazyUmount, mountArgv]);

    // busy: another process holds the image open when the last guest goes
    const holder = spawn('sh', ['-c', 'exec 3<"$1"; echo ready; exec sleep 60', 'holder', devicePath], { stdio: ['ignore', 'pipe', 'ignore'] });
    holders.push(holder);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    expect(await driver.disconnectVolume(ci, GUEST_A)).to.deep.equal({ unmounted: false, reason: 'in-use' });
    expect(events.take()).to.deep.equal([]);
    expect(await driver.disconnectVolume(ci, GUEST_B)).to.deep.equal({ unmounted: false, reason: 'busy' });
    phase = events.take();
    expect(described(phase)).to.deep.equal([{ kind: 'busy', mountPath, argv: argv.umount }]);
    expect(commandsOf(phase)).to.deep.equal([{ argv: argv.umount, exitCode: 32, errorCode: 'ERR_COMMAND_FAILED' }]);
    ranSince();

    // unmount: the holder goes; the next disconnect finishes the job
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    await sleep(300);
    let result = await driver.disconnectVolume(ci, GUEST_B);
    // The kernel may let go of the file a moment after the holder's exit is reported.
    for (let attempt = 0; attempt < 20 && result.reason === 'busy'; attempt += 1) {
      await sleep(100);
      result = await driver.disconnectVolume(ci, GUEST_B);
    }
    expect(result).to.deep.equal({ unmounted: true, reason: 'unmounted' });
    const last = described(events.take());
    expect(last.filter((event) => event.kind !== 'busy')).to.deep.equal([{ kind: 'unmount', mountPath, lazy: false, reason: 'last-detach' }]);
    expect(host.mounts()).to.deep.equal([]);

    // One command event per command the runner ran, in order, over the whole cycle.
    expect(commandsOf(events.all).map((command) => command.argv)).to.deep.equal(ranArgv());
    expect(await driver.reconcile()).to.deep.equal({ unmounted: [], kept: [], missing: [], stacked: [], flattened: [], foreign: [] });
    expect(events.take()).to.deep.equal([]);
  });

  itRootAgentOnly('the logger option is a function called in the driver\'s own process; the agent\'s commands and their outcomes are checked through the command events above', 'logs each command to the logger option: debug when it succeeds, warn when it fails', async () => {
    const lines: Array<{ level: keyof Logger; message: string; details: Readonly<Record<string, unknown>> | undefined }> = [];
    const record = (level: keyof Logger) => (message: string, details?: Readonly<Record<string, unknown>>): void => {
      lines.push({ level, message, details });
    };
    const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
    const driver = new QuobyteVolumeDriver({ mountPointBase: host.mountBase, runner: host.runner(), probe, systemd: false, probeTimeoutMs: PROBE_TIMEOUT_MS, logger });
    const ci: ConnectionInfo = { driver_volume_type: 'quobyte', data: { export: 'registry:7861/logged', name: 'volume-1' } };
    const { mountPath } = driver.resolveVolume(ci);
    await driver.connectVolume(ci, GUEST_A);
    const mounted = lines.splice(0);
    expect(mounted.map(({ level, message }) => [level, message.replace(/\(\d+ ms/, '(N ms')])).to.deep.equal([
      ['debug', `command mount.quobyte --disable-xattrs registry:7861/logged ${mountPath} (N ms, exit 0)`],
    ]);
    expect(mounted[0]?.details).to.include({ exitCode: 0, errorCode: null }).and.to.have.property('argv').that.deep.equals(['mount.quobyte', '--disable-xattrs', 'registry:7861/logged', mountPath]);

    // Something holds the mount (its working directory there): umount fails, logged as a warning.
    const holder = spawn('sh', ['-c', 'echo ready; exec sleep 60'], { cwd: mountPath, stdio: ['ignore', 'pipe', 'ignore'] });
    holders.push(holder);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    expect(await driver.disconnectVolume(ci, GUEST_A)).to.include({ reason: 'busy' });
    expect(lines.map(({ level, message }) => [level, message.replace(/\(\d+ ms/, '(N ms')])).to.deep.equal([
      ['warn', `command umount --no-canonicalize ${mountPath} (N ms, ERR_COMMAND_FAILED, exit 32)`],
    ]);
  });
});
