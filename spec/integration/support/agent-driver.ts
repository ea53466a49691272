/**
 * One factory for every spec that drives a `QuobyteVolumeDriver` on real mounts, and the
 * integration suite's agent pass. Normally ({@link AGENT_MODE} off) it builds the driver in this
 * (root) process. With `LVD_IT_AGENT=unprivileged` it hands back a proxy instead: the real driver
 * lives in a child process running as `nobody` (uid 65534, no groups) with
 * `privilegedHelper: ['sudo', '-n', <helper>]`, the helper installed per {@link RealHost} with a
 * sudoers drop-in allowing `nobody` that helper and nothing else (removed at clean-up). The
 * store is the base's default one, in a folder `<base>/.libvirt-volume-attachments.json.d`
 * pre-created for the agent, as docs/operations.md tells an operator to. Calls, results and typed
 * errors cross as JSON lines; `getMountPath`, `getDevicePath` and `getConfig` are pure and run
 * here. The commands the agent ran come back with each reply, so `runner.argv` is there in both
 * modes (with the helper's argv in the agent pass: {@link argvOf}), and so do the driver's
 * `diagnostics_channel` events, published again here on the same channels before the call
 * resolves, so a subscriber in the test process sees them as from an in-process driver.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { FileAttachmentStore } from '../../../lib/attachments/file-attachment-store.js';
import { MemoryAttachmentStore } from '../../../lib/attachments/memory-attachment-store.js';
import type { Command } from '../../../lib/commands/command-runner.js';
import { DEFAULT_STATE_FILE_NAME } from '../../../lib/drivers/driver-parts.js';
import type { ConnectionInfo, DiskInfo } from '../../../lib/drivers/connection-info.js';
import { mountDirectoryName } from '../../../lib/drivers/quobyte-export.js';
import { QuobyteVolumeDriver } from '../../../lib/drivers/quobyte-volume-driver.js';
import type { GetConfigOptions } from '../../../lib/drivers/volume-driver.js';
import type { BackingImage } from '../../../lib/images/image-gate.js';
import type { GuestDiskConfig } from '../../../lib/libvirt/guest-disk-config.js';
import { CHANNELS, type ChannelKind } from '../../../lib/observability/channels.js';
import type { AgentDriverSpec } from '../fixtures/agent-server.js';
import { fromWire, toWire } from './agent-wire.js';
import { mountTable } from './mount-table.js';
import type { RealHost } from './real-host.js';
import { RecordingProbe } from './recording-probe.js';
import { RecordingRunner } from './recording-runner.js';
import { installHelper, setHelperStandInEnv } from './sudo-helper.js';

/** The agent pass: the drivers of the integration suite run as `nobody` through the helper. */
export const AGENT_MODE = process.env.LVD_IT_AGENT === 'unprivileged';
/** `nobody`. */
export const AGENT_UID = 65_534;
const WORKTREE = new URL('../../../', import.meta.url).pathname;

/** What a spec may choose of a driver; everything else is the real host's default. */
export interface DriverChoice {
  probeTimeoutMs?: number;
  commandTimeoutMs?: number;
  revalidateAfterMs?: number;
  /** `default` (the base's shared file store, as the driver's own default), `memory` (this driver's alone), or a store's path. */
  store?: string;
}

/** The public API the specs use: the real driver, or the agent's proxy of it. */
export type DriverUnderTest = Pick<QuobyteVolumeDriver, 'getMountPath' | 'getDevicePath' | 'getConfig' | 'mountPointBase' | 'connectVolume' | 'disconnectVolume' | 'planConnect' | 'planDisconnect' | 'repairMount' | 'planRepair' | 'extendVolume' | 'restoreAttachments' | 'reconcile' | 'listAttachments' | 'inspectMount'>;

/** What a driver ran: each command (`argv`: one line each) and each FUSE connection it aborted in process. */
export interface CallLog {
  readonly commands: Command[];
  readonly argv: string[];
  readonly aborts: number[];
}

type Reply = { id: number; ok?: unknown; error?: unknown; chain?: BackingImage[]; calls?: Command[]; aborts?: number[]; events?: unknown };

/** The agent child of one host: `nobody`, one process for every driver a test makes. */
class AgentProcess {
  static readonly #byHost = new WeakMap<RealHost, AgentProcess>();
  static readonly #sudoers = new Set<string>();
  static readonly #deployed = new WeakMap<RealHost, string>();
  readonly helper: string;
  readonly ready: Promise<number>;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<number, (reply: Reply) => void>();
  #next = 0;
  #drivers = 0;

  /** The host's agent, set up on first use: helper, sudoers drop-in, store folder, child. */
  static of(host: RealHost): AgentProcess {
    let agent = AgentProcess.#byHost.get(host);
    if (agent === undefined) {
      agent = new AgentProcess(host);
      AgentProcess.#byHost.set(host, agent);
    }
    return agent;
  }

  /** Removes any drop-in left when the run ends abnormally. */
  static removeAllSudoers(): void {
    for (const file of AgentProcess.#sudoers) rmSync(file, { force: true });
  }

  /**
   * What an operator deploys for an unprivileged agent on `host`, once per host: the helper, a
   * sudoers drop-in allowing `nobody` only that (removed at the host's clean-up), and the default
   * store's folder in the root-owned base, the agent's.
   * @returns The helper's path.
   */
  static deploy(host: RealHost): string {
    let helper = AgentProcess.#deployed.get(host);
    if (helper !== undefined) return helper;
    chmodSync(host.root, 0o755); // nobody reaches the base; the base and the helper stay root's
    const sudoers = `/etc/sudoers.d/lvd-agent-pass-${process.pid}-${host.root.slice(host.root.lastIndexOf('-') + 1)}`;
    AgentProcess.#sudoers.add(sudoers);
    host.onCleanUp(() => {
      rmSync(sudoers, { force: true });
      AgentProcess.#sudoers.delete(sudoers);
    });
    helper = installHelper(host, sudoers);
    AgentProcess.#deployed.set(host, helper);
    const storeFolder = join(host.mountBase, `${DEFAULT_STATE_FILE_NAME}.d`);
    mkdirSync(storeFolder, { mode: 0o700 });
    chownSync(storeFolder, AGENT_UID, AGENT_UID);
    return helper;
  }

  private constructor(host: RealHost) {
    this.helper = AgentProcess.deploy(host);
    // Registered after the drop-in's removal, so it runs first (clean-ups run in reverse).
    host.onCleanUp(() => { this.stop(); });
    const setpriv = [`--reuid=${AGENT_UID}`, `--regid=${AGENT_UID}`, '--clear-groups'];
    this.#child = spawn('setpriv', [...setpriv, process.execPath, '--import', 'tsx', 'spec/integration/fixtures/agent-server.ts'], {
      cwd: WORKTREE,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/nonexistent', NODE_V8_COVERAGE: '' },
    });
    let stderr = '';
    this.#child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const lines = createInterface({ input: this.#child.stdout });
    this.ready = new Promise((resolve, reject) => {
      this.#child.once('exit', (code, signal) => {
        const gone = new Error(`the agent exited (${String(code ?? signal)}): ${stderr}`);
        reject(gone);
        for (const waiter of this.#waiting.values()) waiter({ id: -1, error: toWire(gone) });
      });
      lines.on('line', (line) => {
        const message = JSON.parse(line) as Reply & { ready?: number };
        if (message.ready !== undefined) resolve(message.ready);
        else this.#waiting.get(message.id)?.(message);
      });
    });
    this.ready.catch(() => undefined);
  }

  /** Sends a request; resolves with the raw reply. */
  async request(op: string, fields: Record<string, unknown> = {}): Promise<Reply> {
    const id = (this.#next += 1);
    const reply = new Promise<Reply>((resolve) => this.#waiting.set(id, resolve));
    // Written at once, in call order: a driver is created before its first call arrives.
    this.#child.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    await this.ready;
    return reply.finally(() => this.#waiting.delete(id));
  }

  /** A new driver in the agent; its number. */
  create(spec: AgentDriverSpec): number {
    const driver = (this.#drivers += 1);
    void this.request('create', { driver, spec });
    return driver;
  }

  stop(): void {
    this.#child.kill('SIGKILL');
  }
}

process.on('exit', () => { AgentProcess.removeAllSudoers(); });

/** The proxy: the driver of the agent process, the same public API. */
class AgentDriver implements DriverUnderTest {
  readonly #agent: AgentProcess;
  readonly #id: number;
  readonly #pure: QuobyteVolumeDriver;
  readonly #log: CallLog;
  readonly #chains = new Map<string, BackingImage[]>();

  constructor(agent: AgentProcess, spec: AgentDriverSpec, log: CallLog) {
    this.#agent = agent;
    this.#id = agent.create(spec);
    this.#log = log;
    this.#pure = new QuobyteVolumeDriver({ mountPointBase: spec.mountPointBase, systemd: false, attachments: new MemoryAttachmentStore() });
  }

  get mountPointBase(): string {
    return this.#pure.mountPointBase;
  }

  getMountPath(ci: ConnectionInfo): string {
    return this.#pure.getMountPath(ci);
  }

  getDevicePath(ci: ConnectionInfo): string {
    return this.#pure.getDevicePath(ci);
  }

  getConfig(ci: ConnectionInfo, diskInfo: DiskInfo, options: GetConfigOptions = {}): GuestDiskConfig {
    const chain = this.#chains.get(this.#pure.getDevicePath(ci));
    return this.#pure.getConfig(ci, diskInfo, { ...(chain === undefined ? {} : { backingChain: chain }), ...options });
  }

  async #call<T>(method: string, args: unknown[]): Promise<T> {
    const reply = await this.#agent.request('call', { driver: this.#id, method, args: toWire(args) });
    this.#log.commands.push(...(reply.calls ?? []));
    this.#log.aborts.push(...(reply.aborts ?? []));
    for (const { kind, message } of (fromWire(reply.events ?? []) as Array<{ kind: ChannelKind; message: unknown }>)) diagnosticsChannel.channel(CHANNELS[kind]).publish(message);
    if (reply.error !== undefined) throw fromWire(reply.error) as Error;
    if (reply.chain !== undefined) this.#chains.set(this.#pure.getDevicePath(args[0] as ConnectionInfo), reply.chain);
    return fromWire(reply.ok) as T;
  }

  connectVolume: DriverUnderTest['connectVolume'] = (...args) => this.#call('connectVolume', args);
  disconnectVolume: DriverUnderTest['disconnectVolume'] = (...args) => this.#call('disconnectVolume', args);
  planConnect: DriverUnderTest['planConnect'] = (...args) => this.#call('planConnect', args);
  planDisconnect: DriverUnderTest['planDisconnect'] = (...args) => this.#call('planDisconnect', args);
  repairMount: DriverUnderTest['repairMount'] = (...args) => this.#call('repairMount', args);
  planRepair: DriverUnderTest['planRepair'] = (...args) => this.#call('planRepair', args);
  extendVolume: DriverUnderTest['extendVolume'] = (...args) => this.#call('extendVolume', args);
  restoreAttachments: DriverUnderTest['restoreAttachments'] = (...args) => this.#call('restoreAttachments', args);
  reconcile: DriverUnderTest['reconcile'] = (...args) => this.#call('reconcile', args);
  inspectMount: DriverUnderTest['inspectMount'] = (...args) => this.#call('inspectMount', args);
  listAttachments: DriverUnderTest['listAttachments'] = async () => {
    const table = await this.#call<Map<string, string[]>>('listAttachments', []);
    return Object.assign(table, { toJSON: () => Object.fromEntries(table) });
  };
}

function callLog(): CallLog {
  const commands: Command[] = [];
  return { commands, aborts: [], get argv() { return commands.map((command) => [command.file, ...command.args].join(' ')); } };
}

/**
 * A driver on `host` the way the current pass runs it: in this process as root, or as `nobody`
 * through the helper. `env`: the stand-in client's extra settings (through the helper they reach
 * the next mount it runs).
 */
export function driverFor(host: RealHost, choice: DriverChoice = {}, env: Record<string, string> = {}): { driver: DriverUnderTest; runner: CallLog } {
  if (AGENT_MODE) return unprivilegedDriverFor(host, choice, env);
  const { store = 'default', ...options } = choice;
  const recording = new RecordingRunner(host.runner(env));
  const probe = new RecordingProbe();
  // A probe is given, so the store is named: the base's file store is the driver's own default.
  const attachments = store === 'memory' ? new MemoryAttachmentStore() : new FileAttachmentStore(store === 'default' ? join(host.mountBase, DEFAULT_STATE_FILE_NAME) : store);
  const driver = new QuobyteVolumeDriver({ mountPointBase: host.mountBase, runner: recording, probe, attachments, systemd: false, probeTimeoutMs: 1_000, ...options });
  return { driver, runner: { commands: recording.commands, get argv() { return recording.argv; }, aborts: probe.aborts } };
}

/** A driver in the host's unprivileged agent, whatever the pass (see {@link driverFor}). */
export function unprivilegedDriverFor(host: RealHost, choice: DriverChoice = {}, env: Record<string, string> = {}): { driver: DriverUnderTest; runner: CallLog } {
  const { store = 'default', ...options } = choice;
  const agent = AgentProcess.of(host);
  setHelperStandInEnv(host, env);
  const runner = callLog();
  const driver = new AgentDriver(agent, { mountPointBase: host.mountBase, privilegedHelper: ['sudo', '-n', agent.helper], store, probeTimeoutMs: 1_000, ...options }, runner);
  return { driver, runner };
}

/**
 * For a spec that starts agent processes of its own (crash, stacked, host-wide): in the agent
 * pass, the driver option that runs the helper through sudo and the spawn options that make the
 * process `nobody` (libuv clears the supplementary groups when it sets a uid), the helper
 * deployed on `host` first; as root, nothing.
 */
export function ownAgentProcess(host: RealHost): { driver: { privilegedHelper?: string[] }; spawn: { uid?: number; gid?: number } } {
  if (!AGENT_MODE) return { driver: {}, spawn: {} };
  return { driver: { privilegedHelper: ['sudo', '-n', AgentProcess.deploy(host)] }, spawn: { uid: AGENT_UID, gid: AGENT_UID } };
}

/** The uid, gid and groups of the host's agent process (agent pass only). */
export async function agentIdentity(host: RealHost): Promise<{ uid: number; gid: number; groups: number[] }> {
  return (await AgentProcess.of(host).request('whoami')).ok as { uid: number; gid: number; groups: number[] };
}

/** The helper an agent on `host` runs through sudo (agent pass only). */
export function helperOf(host: RealHost): string {
  return AgentProcess.deploy(host);
}

/**
 * The argv a driver's runner records for each act on an export, in the current pass: as root,
 * the client's and `umount`'s own (a FUSE abort is done in process, no command); through the
 * helper, `sudo -n <helper> <verb> <export>`.
 */
export function argvOf(host: RealHost): { mount(exportName: string): string; umount(exportName: string): string; lazyUmount(exportName: string): string; hungRepair(exportName: string): string[] } {
  const path = (exportName: string): string => join(host.mountBase, mountDirectoryName(exportName));
  if (!AGENT_MODE) {
    return {
      mount: (exportName) => `mount.quobyte --disable-xattrs ${exportName} ${path(exportName)}`,
      umount: (exportName) => `umount --no-canonicalize ${path(exportName)}`,
      lazyUmount: (exportName) => `umount -l --no-canonicalize ${path(exportName)}`,
      hungRepair: (exportName) => [`umount -l --no-canonicalize ${path(exportName)}`, `mount.quobyte --disable-xattrs ${exportName} ${path(exportName)}`],
    };
  }
  const helper = `sudo -n ${helperOf(host)}`;
  return {
    mount: (exportName) => `${helper} mount ${exportName}`,
    umount: (exportName) => `${helper} umount ${exportName}`,
    lazyUmount: (exportName) => `${helper} umount ${exportName} --lazy`,
    hungRepair: (exportName) => [`${helper} abort ${exportName}`, `${helper} umount ${exportName} --lazy`, `${helper} mount ${exportName}`],
  };
}

const rootOnly: string[] = [];

/**
 * `it`, except in the agent pass, where the test is not registered (never pending: CI forbids
 * that) and `reason` is printed once at the end: for tests that only make sense for a root agent
 * (its own argv, in-process probes or runners, a root agent racing links).
 */
export function itRootAgentOnly(reason: string, title: string, fn: Mocha.AsyncFunc | Mocha.Func): void {
  if (AGENT_MODE) rootOnly.push(`${title}: ${reason}`);
  else it(title, fn);
}

/** {@link itRootAgentOnly} for a whole `describe`. */
export function describeRootAgentOnly(reason: string, title: string, fn: (this: Mocha.Suite) => void): void {
  if (AGENT_MODE) rootOnly.push(`${title} (all of it): ${reason}`);
  else describe(title, fn);
}

/** The whole mount table outside the temporary directory, for the run-wide check of the agent pass. */
function tableOutsideScratch(): string[] {
  return mountTable('/nonexistent');
}

if (AGENT_MODE) {
  // Registered while the spec files load: root hooks, around the whole agent pass.
  let before: string[] = [];
  globalThis.before(() => { before = tableOutsideScratch(); });
  globalThis.after(() => {
    if (rootOnly.length > 0) console.log(`\n  Root agent only, not run in the agent pass (${rootOnly.length}):\n${rootOnly.map((line) => `    - ${line}`).join('\n')}`);
    // Nothing outside the scratch areas changed in the whole mount table across the run.
    expect(tableOutsideScratch(), 'mount table outside the scratch areas').to.deep.equal(before);
  });
}
