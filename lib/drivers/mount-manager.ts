/**
 * The host's mount state for one base, in one place (as Nova's `volume/mount.py`): a lock per
 * mount point held across observe → decide → apply, and the attachment counts that decide when
 * a share goes. Each backend only says how to mount; this says when.
 *
 * @module
 */
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { CommandRunner } from '../commands/command-runner.js';
import { throwIfAborted } from '../commands/abort-error.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';
import { decideConnect } from '../plans/decide-connect.js';
import { decideDisconnect } from '../plans/decide-disconnect.js';
import type { ConnectPlan, DisconnectPlan, MountCommands } from '../plans/plan-step.js';
import type { FastPath } from './fast-path.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { MountInspector } from './mount-inspector.js';
import { observeMount } from './observe-mount.js';
import { applyConnectPlan, applyDisconnectPlan, type ApplyContext } from './plan-applier.js';
import type { ResolvedVolume } from './resolved-volume.js';
import type { ConnectResult, DisconnectResult, VolumeOperationOptions } from './volume-driver.js';

/** What the manager works with. */
export interface MountManagerParts {
  runner: CommandRunner;
  probe: FileSystemProbe;
  store: AttachmentStore;
  inspector: MountInspector;
  fastPath: FastPath;
  commandTimeoutMs: number;
  probeTimeoutMs: number;
}

/** One request: the volume, this call's attachment, and the commands for its export. */
export interface MountRequest {
  volume: ResolvedVolume;
  attachmentId: string;
  commands: MountCommands;
}

/** Connects and disconnects under a lock per mount point. */
export class MountManager {
  readonly #parts: MountManagerParts;
  readonly #locks = new KeyedMutex();

  constructor(parts: MountManagerParts) {
    this.#parts = parts;
  }

  /** Observes, decides and applies a connect under the mount point's lock. */
  async connect(request: MountRequest, options: VolumeOperationOptions): Promise<ConnectResult> {
    const { volume } = request;
    throwIfAborted(options.signal);
    return this.#locks.runExclusive(volume.mountPath, async () => {
      throwIfAborted(options.signal);
      const plan = await this.planConnect(request, options, true);
      const action = await applyConnectPlan(this.#applyContext(request, options.signal), plan.steps, plan.action);
      return { mountPath: volume.mountPath, devicePath: volume.devicePath, action, ...(plan.staleReason === undefined ? {} : { staleReason: plan.staleReason }) };
    });
  }

  /** Observes, decides and applies a disconnect under the mount point's lock. */
  async disconnect(request: MountRequest, options: VolumeOperationOptions): Promise<DisconnectResult> {
    throwIfAborted(options.signal);
    return this.#locks.runExclusive(request.volume.mountPath, async () => {
      const plan = await this.planDisconnect(request, options, true);
      const reason = await applyDisconnectPlan(this.#applyContext(request, options.signal), plan.steps, plan.reason);
      return { unmounted: reason === 'unmounted', reason };
    });
  }

  /** The connect plan. `fast`: trust a mount validated moments ago (a real connect; a dry run looks afresh). */
  async planConnect(request: MountRequest, options: VolumeOperationOptions, fast = false): Promise<ConnectPlan> {
    const observation = await observeMount(this.#parts, request.volume, request.attachmentId, { operation: 'connect', fast });
    return decideConnect(observation, { forceRepair: options.forceRepair === true }, request.commands);
  }

  /** The disconnect plan. */
  async planDisconnect(request: MountRequest, options: VolumeOperationOptions, fast = false): Promise<DisconnectPlan> {
    const observation = await observeMount(this.#parts, request.volume, request.attachmentId, { operation: 'disconnect', fast });
    return decideDisconnect(observation, { forceRepair: options.forceRepair === true }, request.commands);
  }

  /**
   * Unmounts a mount point no attachment needs (reconciliation), by the decision a last
   * disconnect takes, once per stacked layer. Resolves to `in-use` when an attachment was
   * recorded meanwhile, `kept` when it could not go (busy, hung with files open).
   */
  async release(mountPath: string, commands: MountCommands, options: { dryRun: boolean; layers: number; signal?: AbortSignal }): Promise<'unmounted' | 'kept' | 'in-use'> {
    const request: MountRequest = { volume: { export: '', mountPath, devicePath: mountPath }, attachmentId: '', commands };
    return this.#locks.runExclusive(mountPath, async () => {
      for (let layer = 0; layer < options.layers; layer += 1) {
        const plan = await this.planDisconnect(request, {});
        if (plan.reason === 'not-attached' || plan.reason === 'in-use') return 'in-use';
        if (plan.reason === 'not-mounted') return layer === 0 ? 'kept' : 'unmounted';
        if (options.dryRun) return plan.reason === 'unmounted' ? 'unmounted' : 'kept';
        const reason = await applyDisconnectPlan(this.#applyContext(request, options.signal), plan.steps, plan.reason);
        if (reason !== 'unmounted') return layer === 0 && reason !== 'not-mounted' ? 'kept' : 'unmounted';
      }
      return 'unmounted';
    });
  }

  /** Mount paths with a lock held or awaited. */
  get activeLockCount(): number {
    return this.#locks.size;
  }

  #applyContext(request: MountRequest, signal: AbortSignal | undefined): ApplyContext {
    return { ...this.#parts, volume: request.volume, commands: request.commands, signal };
  }
}
