/**
 * The host's mount state for one base, in one place (as Nova's `volume/mount.py`): a lock per
 * mount point, shared by every process that uses the base, held across observe → decide →
 * apply, and the attachment counts that decide when a share goes. Each backend only says how to
 * mount; this says when.
 *
 * @module
 */
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { CommandRunner } from '../commands/command-runner.js';
import { throwIfAborted } from '../commands/abort-error.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';
import type { BackingImage } from '../images/image-gate.js';
import type { MountLock } from '../locks/mount-lock.js';
import { publish } from '../observability/channels.js';
import { decideConnect } from '../plans/decide-connect.js';
import { decideDisconnect } from '../plans/decide-disconnect.js';
import { decideRepair } from '../plans/decide-repair.js';
import { looksAgain } from '../plans/decide-stack.js';
import type { ConnectPlan, DisconnectPlan, MountCommands, Plan, RepairPlan } from '../plans/plan-step.js';
import type { FastPath } from './fast-path.js';
import type { ImageExpectation } from './image-checks.js';
import type { MountInspector } from './mount-inspector.js';
import { observeMount } from './observe-mount.js';
import { applyConnectPlan, applyDisconnectPlan, isBusy, type ApplyContext } from './plan-applier.js';
import { publishPlan } from './publish-plan.js';
import type { ResolvedVolume } from './resolved-volume.js';
import { settleStack, type PeelOutcome, type StackHints } from './settle-stack.js';
import { warmConnect } from './warm-connect.js';
import type { ConnectResult, DisconnectResult, RepairMountOptions, RepairResult, VolumeOperationOptions } from './volume-driver.js';

/** What the manager works with. */
export interface MountManagerParts {
  runner: CommandRunner;
  probe: FileSystemProbe;
  store: AttachmentStore;
  lock: MountLock & { readonly size?: number };
  inspector: MountInspector;
  fastPath: FastPath;
  commandTimeoutMs: number;
  probeTimeoutMs: number;
  /** The configured mount base. */
  base: string;
  /** Checks the base before anything runs under it (a root agent; the helper checks its own). */
  secureBase: ((base: string) => Promise<string>) | undefined;
}

/** One request: the volume, this call's attachment, the commands for its export, what its image must be. */
export interface MountRequest {
  volume: ResolvedVolume;
  attachmentId: string;
  commands: MountCommands;
  image: ImageExpectation;
}

/** A request for a mount point found in the table (reconciliation): no export, no attachment, no image. */
function reconcileRequest(mountPath: string, commands: MountCommands): MountRequest {
  return { volume: { export: '', mountPath, devicePath: mountPath }, attachmentId: '', commands, image: { format: 'raw', encrypted: false } };
}

/** Connects and disconnects under a host-wide lock per mount point. */
export class MountManager {
  readonly #parts: MountManagerParts;
  /** The backing chain each image had at its last gate, for the XML. */
  readonly #chains = new Map<string, BackingImage[]>();

  constructor(parts: MountManagerParts) {
    this.#parts = parts;
  }

  /** Connects: the warm path (recorded, still healthy) takes no lock and writes nothing; anything else observes, decides and applies under the lock. */
  async connect(request: MountRequest, options: VolumeOperationOptions): Promise<ConnectResult> {
    const { volume, attachmentId } = request;
    const what = `connectVolume ${volume.mountPath}`;
    throwIfAborted(options.signal, what);
    const { store, fastPath, lock, probe, probeTimeoutMs } = this.#parts;
    // The image is gated at every connect, never cached: it may have been swapped.
    const warm = (await store.has(volume.mountPath, attachmentId)) ? await warmConnect(probe, fastPath, volume, request.image, probeTimeoutMs) : undefined;
    if (warm !== undefined) {
      this.#remember(volume.devicePath, warm.backingChain);
      publish('reuse', () => ({ mountPath: volume.mountPath, export: volume.export }));
      return { mountPath: volume.mountPath, devicePath: volume.devicePath, action: 'reused' };
    }
    return lock.withLock(
      volume.mountPath,
      async () => {
        throwIfAborted(options.signal, what);
        await this.#parts.secureBase?.(this.#parts.base);
        const started = performance.now();
        const { plan, peeled, staleReason = plan.staleReason } = await settleStack((hints) => this.planConnect(request, options, true, hints), (peel) => this.#peel(request, peel, options.signal));
        publishPlan(plan, request, this.#parts.probeTimeoutMs);
        const applied = await applyConnectPlan(this.#applyContext(request, options.signal, 'repair'), plan.steps, plan.action);
        const { action, image } = peeled > 0 ? { ...applied, action: 'repaired' as const } : applied;
        if (action === 'reused') publish('reuse', () => ({ mountPath: volume.mountPath, export: volume.export }));
        else publish('mount', () => ({ mountPath: volume.mountPath, export: volume.export, durationMs: performance.now() - started }));
        this.#remember(volume.devicePath, image?.backingChain ?? []);
        return { mountPath: volume.mountPath, devicePath: volume.devicePath, action, ...(staleReason === undefined ? {} : { staleReason }) };
      },
      options.signal === undefined ? {} : { signal: options.signal },
    );
  }

  /** Observes, decides and applies a disconnect under the mount point's lock. */
  async disconnect(request: MountRequest, options: VolumeOperationOptions): Promise<DisconnectResult> {
    throwIfAborted(options.signal, `disconnectVolume ${request.volume.mountPath}`);
    return this.#parts.lock.withLock(request.volume.mountPath, async () => {
      await this.#parts.secureBase?.(this.#parts.base);
      const { plan, peeled } = await settleStack((hints) => this.planDisconnect(request, options, true, hints), (peel) => this.#peel(request, peel, options.signal));
      publishPlan(plan, request, this.#parts.probeTimeoutMs);
      const applied = await applyDisconnectPlan(this.#applyContext(request, options.signal, 'last-detach'), plan.steps, plan.reason);
      // Layers went before the last one: that one found gone is all of them gone.
      const reason = peeled > 0 && applied === 'not-mounted' ? 'unmounted' : applied;
      if (reason === 'busy') {
        const unmount = request.commands.unmount(false);
        publish('busy', () => ({ mountPath: request.volume.mountPath, argv: [unmount.file, ...unmount.args] }));
      }
      if (reason === 'unmounted') this.#chains.delete(request.volume.devicePath);
      return { unmounted: reason === 'unmounted', reason };
    });
  }

  /** A deliberate repair under the mount point's lock: removal and mount, no attachment recorded. */
  async repair(request: MountRequest, options: RepairMountOptions): Promise<RepairResult> {
    const { mountPath, export: exportName } = request.volume;
    throwIfAborted(options.signal, `repairMount ${mountPath}`);
    return this.#parts.lock.withLock(
      mountPath,
      async () => {
        await this.#parts.secureBase?.(this.#parts.base);
        const started = performance.now();
        const { plan, peeled, staleReason = plan.staleReason } = await settleStack((hints) => this.planRepair(request, options, hints), (peel) => this.#peel(request, peel, options.signal));
        publishPlan(plan, request, this.#parts.probeTimeoutMs);
        await applyConnectPlan(this.#applyContext(request, options.signal, 'repair'), plan.steps, 'repaired');
        if (plan.outcome === 'repaired') publish('mount', () => ({ mountPath, export: exportName, durationMs: performance.now() - started }));
        return { mountPath, outcome: peeled > 0 ? 'repaired' : plan.outcome, ...(staleReason === undefined ? {} : { staleReason }) };
      },
      options.signal === undefined ? {} : { signal: options.signal },
    );
  }

  /** The repair plan; always looks afresh (an operator repairs what they think is broken). */
  async planRepair(request: MountRequest, options: RepairMountOptions, hints: StackHints = {}): Promise<RepairPlan> {
    const observation = await observeMount(this.#parts, request.volume, request.attachmentId, { operation: 'connect', fast: false });
    return decideRepair({ ...observation, ...hints }, { forceRepair: options.force === true }, request.commands);
  }

  /** The connect plan. `fast`: trust a mount validated moments ago (a real connect; a dry run looks afresh). */
  async planConnect(request: MountRequest, options: VolumeOperationOptions, fast = false, hints: StackHints = {}): Promise<ConnectPlan> {
    const observation = await observeMount(this.#parts, request.volume, request.attachmentId, { operation: 'connect', fast });
    return decideConnect({ ...observation, ...hints }, { forceRepair: options.forceRepair === true }, request.commands);
  }

  /** The disconnect plan. */
  async planDisconnect(request: MountRequest, options: VolumeOperationOptions, fast = false, hints: StackHints = {}): Promise<DisconnectPlan> {
    const observation = await observeMount(this.#parts, request.volume, request.attachmentId, { operation: 'disconnect', fast });
    return decideDisconnect({ ...observation, ...hints }, { forceRepair: options.forceRepair === true }, request.commands);
  }

  /**
   * Unmounts a mount point no attachment needs (reconciliation), by the decision a last
   * disconnect takes, once per stacked layer. Resolves to `in-use` when an attachment was
   * recorded meanwhile, `kept` when it could not go (busy, hung with files open).
   */
  async release(mountPath: string, commands: MountCommands, options: { dryRun: boolean; layers: number; signal?: AbortSignal }): Promise<'unmounted' | 'kept' | 'in-use'> {
    const request = reconcileRequest(mountPath, commands);
    return this.#parts.lock.withLock(mountPath, async () => {
      await this.#parts.secureBase?.(this.#parts.base);
      for (let layer = 0; layer < options.layers; layer += 1) {
        const plan = await this.planDisconnect(request, {});
        if (plan.reason === 'not-attached' || plan.reason === 'in-use') return 'in-use';
        if (plan.reason === 'not-mounted') return layer === 0 ? 'kept' : 'unmounted';
        if (options.dryRun) return plan.reason === 'unmounted' ? 'unmounted' : 'kept';
        const reason = await applyDisconnectPlan(this.#applyContext(request, options.signal, 'reconcile'), plan.steps, plan.reason);
        if (reason !== 'unmounted') return layer === 0 && reason !== 'not-mounted' ? 'kept' : 'unmounted';
      }
      return 'unmounted';
    });
  }

  /**
   * Takes a stack in use apart until one layer remains (reconciliation): only the layers a
   * connect would remove (`decide-stack.ts`); never mounts, never touches the last layer.
   * Resolves to whether a layer went (or, dry, would go).
   */
  async flatten(mountPath: string, commands: MountCommands, options: { dryRun: boolean; signal?: AbortSignal }): Promise<boolean> {
    const request = reconcileRequest(mountPath, commands);
    return this.#parts.lock.withLock(mountPath, async () => {
      await this.#parts.secureBase?.(this.#parts.base);
      if (options.dryRun) return looksAgain(await this.planRepair(request, {}));
      return (await settleStack((hints) => this.planRepair(request, {}, hints), (peel) => this.#peel(request, peel, options.signal, 'reconcile'))).peeled > 0;
    });
  }

  /** The backing chain the image had at its last gate in this process, when there was one. */
  backingChainOf(devicePath: string): readonly BackingImage[] | undefined {
    return this.#chains.get(devicePath);
  }

  /** Mount paths with a lock held or awaited by this process. */
  get activeLockCount(): number {
    return this.#parts.lock.size ?? 0;
  }

  #remember(devicePath: string, chain: BackingImage[]): void {
    this.#chains.set(devicePath, chain);
  }

  /** Applies a plan that removes the top of a stack; `busy` when files are open on that top. */
  async #peel(request: MountRequest, plan: Plan, signal: AbortSignal | undefined, why: ApplyContext['unmountReason'] = 'repair'): Promise<PeelOutcome> {
    publishPlan(plan, request, this.#parts.probeTimeoutMs);
    const context = this.#applyContext(request, signal, why);
    try {
      if (plan.operation === 'disconnect') return (await applyDisconnectPlan(context, plan.steps, plan.reason)) === 'busy' ? 'busy' : 'peeled';
      await applyConnectPlan(context, plan.steps, 'repaired');
      return 'peeled';
    } catch (error) {
      if (isBusy(error)) return 'busy';
      throw error;
    }
  }

  #applyContext(request: MountRequest, signal: AbortSignal | undefined, unmountReason: ApplyContext['unmountReason']): ApplyContext {
    return { ...this.#parts, volume: request.volume, commands: request.commands, image: request.image, signal, unmountReason };
  }
}
