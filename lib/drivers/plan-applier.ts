/**
 * Applies a decided plan, step by step. It decides nothing the decision functions could: what
 * it adds is what only running a step can tell (a mount that failed because someone else just
 * mounted, a busy unmount, a share unmounted by someone else in between).
 *
 * @module
 */
import { basename, dirname } from 'node:path';
import { createDebugLog } from '../debug-log.js';
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { Command, CommandRunner } from '../commands/command-runner.js';
import { isVolumeDriverError, InsecureMountBaseError, VolumeMountError, VolumeUnmountError, VolumeUnresponsiveError, type CommandFailedError } from '../errors.js';
import { HELPER_EXIT } from './helper-commands.js';
import type { FileSystemProbe, PathStat } from '../filesystem/file-system-probe.js';
import { FUSECTL_PATH } from '../filesystem/fuse-connection.js';
import { publish, type UnmountMessage } from '../observability/channels.js';
import type { ConnectAction, DisconnectReason, MountCommands, PlanStep } from '../plans/plan-step.js';
import { gateImage, type ImageExpectation } from './image-checks.js';
import type { ImageGateResult } from '../images/image-gate.js';
import type { FastPath } from './fast-path.js';
import { undoMisplacedMounts } from './misplaced-mount-guard.js';
import type { MountInspector } from './mount-inspector.js';
import type { ResolvedVolume } from './resolved-volume.js';

const debug = createDebugLog('libvirt-volume-driver:driver');

/** util-linux `umount` exit status for "unmount failed" (the kernel's errno is in the text). */
const UMOUNT_FAILURE_EXIT = 32;
const EBUSY_TEXT = /target is busy|device or resource busy/i;

/** A command's failure, from this copy of the package or another (a runner the caller built with its own copy). */
function commandFailure(error: unknown): Pick<CommandFailedError, 'exitCode' | 'stderr'> | undefined {
  if (!isVolumeDriverError(error) || error.code !== 'ERR_COMMAND_FAILED') return undefined;
  const { exitCode, stderr } = error as { exitCode?: unknown; stderr?: unknown };
  return { exitCode: typeof exitCode === 'number' ? exitCode : -1, stderr: typeof stderr === 'string' ? stderr : '' };
}

/** Busy: `umount` exit status 32 with EBUSY's text, or an errno of EBUSY from a custom runner. */
export function isBusy(error: unknown): boolean {
  const cause = error instanceof VolumeUnmountError ? error.cause : error;
  if ((cause as { code?: unknown } | undefined)?.code === 'EBUSY') return true;
  const failure = commandFailure(cause);
  return failure?.exitCode === UMOUNT_FAILURE_EXIT && EBUSY_TEXT.test(failure.stderr);
}

/** `libvirt-volume-helper` refused (exit 3), e.g. to abort a share in use. */
function isHelperRefusal(context: ApplyContext, error: unknown): boolean {
  return context.commands.managesDirectories === true && isVolumeDriverError(error) && error.code === 'ERR_COMMAND_FAILED' && (error as { exitCode?: unknown }).exitCode === HELPER_EXIT.refused;
}

function isAbort(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'AbortError';
}

/** What applying a plan needs. */
export interface ApplyContext {
  volume: ResolvedVolume;
  /** What the image must be (connect only). */
  image?: ImageExpectation;
  commands: MountCommands;
  runner: CommandRunner;
  probe: FileSystemProbe;
  store: AttachmentStore;
  inspector: MountInspector;
  fastPath: FastPath;
  commandTimeoutMs: number;
  probeTimeoutMs: number;
  signal: AbortSignal | undefined;
  /** Why this operation unmounts, for the `unmount` event. */
  unmountReason: UnmountMessage['reason'];
}

/** Runs one command of a plan; a failure becomes the error the step's purpose calls for. */
async function run(context: ApplyContext, command: Command, purpose: 'mount' | 'unmount' | 'other'): Promise<void> {
  const { signal, commandTimeoutMs } = context;
  const options = {
    timeoutMs: commandTimeoutMs,
    // The C locale keeps umount's EBUSY text stable, so busy is told from other failures.
    ...(purpose === 'unmount' ? { env: { LC_ALL: 'C' } } : {}),
    ...(signal === undefined ? {} : { signal }),
  };
  try {
    await context.runner.run(command, options);
    if (purpose === 'unmount') {
      const lazy = command.args.includes('-l') || command.args.includes('--lazy');
      publish('unmount', () => ({ mountPath: context.volume.mountPath, lazy, reason: context.unmountReason }));
    }
  } catch (error) {
    if (isAbort(error) || purpose !== 'unmount') throw error;
    const { mountPath } = context.volume;
    throw new VolumeUnmountError(mountPath, `Could not unmount ${mountPath}: ${(error as Error).message}`, { cause: error });
  }
}

async function removeDirectoryQuietly(probe: FileSystemProbe, path: string): Promise<void> {
  try {
    await probe.removeDirectory(path);
  } catch (error) {
    // Not there, not empty, or still a mount point: nothing of ours to remove.
    debug('kept %s: %s', path, (error as { code?: string }).code ?? (error as Error).message);
  }
}

/**
 * The mount step: a failure is success when the share is mounted and healthy anyway (another
 * process won). A mount that landed elsewhere (a link swapped in) is detached and refused.
 */
async function applyMount(context: ApplyContext, command: Command): Promise<PathStat | undefined> {
  const { volume, inspector, probe } = context;
  debug('Mounting volume %s at mount point %s', volume.export, volume.mountPath);
  // The privileged helper checks its own mount; the agent could not undo one anyway.
  const before = context.commands.managesDirectories === true ? undefined : await probe.listMounts();
  try {
    await run(context, command, 'mount');
    if (before !== undefined) await undoMisplacedMounts(context, before);
    return undefined;
  } catch (error) {
    if (error instanceof InsecureMountBaseError) throw error;
    const after = await inspector.inspect(volume.mountPath, { fresh: true }).catch(() => undefined);
    if (after?.state === 'healthy') {
      debug('Mount of %s failed but it is mounted and healthy: %O', volume.mountPath, error);
      return after.stat;
    }
    if (after?.state === 'absent') await removeDirectoryQuietly(probe, volume.mountPath);
    if (isAbort(error)) throw error;
    const stderr = commandFailure(error)?.stderr.trim() ?? '';
    const detail = stderr !== '' ? stderr : (error as Error).message;
    throw new VolumeMountError(volume.mountPath, `Could not mount ${volume.export} at ${volume.mountPath}: ${detail}`, { cause: error });
  }
}

/** Best effort: unmounts a share this call mounted and nobody uses, and removes its directory. */
async function releaseUnused(context: ApplyContext): Promise<void> {
  const { mountPath } = context.volume;
  context.fastPath.forget(mountPath);
  try {
    // A store that cannot be read says nothing of other users; this call mounted the share
    // under the mount point's lock, so nobody else can have reached it through this mount.
    const users = await context.store.list(mountPath).catch(() => []);
    if (users.length > 0) return;
    await run(context, context.commands.unmount(false), 'unmount');
    await removeDirectoryQuietly(context.probe, mountPath);
  } catch (error) {
    debug('could not release the unused mount %s: %O', mountPath, error);
  }
}

/** Steps both operations apply the same way. */
async function applyCommon(context: ApplyContext, step: PlanStep): Promise<void> {
  const { probe, fastPath, volume } = context;
  switch (step.kind) {
    case 'run':
      fastPath.forget(volume.mountPath);
      if (step.purpose === 'abort') {
        // Best effort: the lazy unmount that follows detaches the mount either way. But the
        // helper refuses a share in use (it sees open files an unprivileged agent cannot).
        await run(context, step.command, 'other').catch((error: unknown) => {
          if (isHelperRefusal(context, error)) {
            throw new VolumeUnresponsiveError(volume.mountPath, `The mount ${volume.mountPath} did not answer in time and is in use; it was left alone: ${(error as CommandFailedError).stderr.trim().slice(0, 300)}`, { cause: error });
          }
          debug('%s failed: %O', step.purpose, error);
        });
        return;
      }
      try {
        await run(context, step.command, 'unmount');
      } catch (error) {
        if (step.fallback === undefined || isAbort(error)) throw error;
        debug('umount of stale %s failed, detaching lazily: %O', volume.mountPath, error);
        await run(context, step.fallback, 'unmount');
      }
      return;
    case 'abort-fuse':
      fastPath.forget(volume.mountPath);
      try {
        let result = await probe.abortFuseConnection?.(step.minor);
        if (result === 'no-fusectl') {
          await run(context, { file: 'mount', args: ['-t', 'fusectl', 'fusectl', FUSECTL_PATH] }, 'other');
          result = await probe.abortFuseConnection?.(step.minor);
        }
        debug('abort of FUSE connection %d: %s', step.minor, result);
      } catch (error) {
        debug('could not abort FUSE connection %d: %O', step.minor, error);
      }
      return;
    case 'create-directory':
      if (probe.createMountDirectory === undefined) await probe.ensureDirectory(step.path);
      else await probe.createMountDirectory(dirname(step.path), basename(step.path));
      return;
    case 'remove-directory':
      await removeDirectoryQuietly(probe, step.path);
      return;
    case 'refuse':
      throw step.error;
    case 'nothing-to-do':
    case 'look-again':
      return;
    case 'verify-mount':
    case 'check-image':
    case 'record-attachment':
    case 'remove-attachment':
      throw new TypeError(`${step.kind} is applied by its operation`);
  }
}

/**
 * Applies a connect plan.
 * @throws whatever the plan refuses with, or a step's failure
 */
export async function applyConnectPlan(context: ApplyContext, steps: readonly PlanStep[], action: ConnectAction): Promise<{ action: ConnectAction; image: ImageGateResult | undefined }> {
  const { volume, inspector, fastPath, store } = context;
  let image: ImageGateResult | undefined;
  let mounted = false;
  let verified = false;
  try {
    for (const step of steps) {
      switch (step.kind) {
        case 'run':
          if (step.purpose === 'mount') {
            const healthyAnyway = await applyMount(context, step.command);
            mounted = healthyAnyway === undefined;
            if (healthyAnyway !== undefined) {
              fastPath.remember(volume.mountPath, healthyAnyway);
              verified = true;
            }
          } else {
            await applyCommon(context, step);
          }
          break;
        case 'verify-mount': {
          if (verified) break;
          const health = await inspector.inspect(volume.mountPath, { fresh: true });
          if (health.state !== 'healthy') {
            // Nova only logs here and lets libvirt fail later; the caller must know now.
            const cause = health.state === 'stale' ? health.error : undefined;
            throw new VolumeMountError(volume.mountPath, `The mount of ${volume.export} at ${volume.mountPath} is not valid after mounting (${health.state})`, { cause });
          }
          debug('Mounted volume: %s', volume.export);
          fastPath.remember(volume.mountPath, health.stat);
          break;
        }
        case 'check-image':
          image = await gateImage(context.probe, volume, context.image ?? { format: 'raw', encrypted: false }, context.probeTimeoutMs);
          break;
        case 'record-attachment':
          await store.add(step.mountPath, step.id);
          break;
        default:
          await applyCommon(context, step);
      }
    }
  } catch (error) {
    // A share this call mounted and nobody uses is not left behind.
    if (mounted) await releaseUnused(context);
    throw error;
  }
  return { action, image };
}

/**
 * Applies a disconnect plan.
 * @throws {@link VolumeUnmountError} an unmount failed for a reason other than busy
 */
export async function applyDisconnectPlan(context: ApplyContext, steps: readonly PlanStep[], reason: DisconnectReason): Promise<DisconnectReason> {
  const { volume, inspector, probe, store } = context;
  for (const step of steps) {
    if (step.kind === 'remove-attachment') {
      await store.remove(step.mountPath, step.id);
    } else if (step.kind === 'run' && step.purpose === 'unmount' && step.fallback === undefined) {
      context.fastPath.forget(volume.mountPath);
      try {
        await run(context, step.command, 'unmount');
      } catch (error) {
        if (isBusy(error)) {
          debug('The volume at %s is still in use.', volume.mountPath);
          return 'busy';
        }
        // Someone else unmounted it in between: the share is gone, which is what was asked.
        if ((await inspector.inspect(volume.mountPath).catch(() => undefined))?.state === 'absent') {
          await removeDirectoryQuietly(probe, volume.mountPath);
          return 'not-mounted';
        }
        throw error;
      }
    } else {
      try {
        await applyCommon(context, step);
      } catch (error) {
        // A hung share the helper found in use stays, as the decision keeps one with files open.
        if (error instanceof VolumeUnresponsiveError) return 'busy';
        throw error;
      }
    }
  }
  return reason;
}
