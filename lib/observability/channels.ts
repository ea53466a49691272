/**
 * What the library publishes on `node:diagnostics_channel`: one channel per kind of event, each
 * named `libvirt-volume-driver:<kind>`, each with a documented message shape. Nothing is built
 * or sent while a channel has no subscriber.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * import { CHANNELS, type CommandMessage } from 'libvirt-volume-driver';
 *
 * diagnosticsChannel.subscribe(CHANNELS.command, (message) => {
 *   const { argv, durationMs, exitCode, errorCode } = message as CommandMessage;
 *   metrics.observe(argv[0], durationMs, exitCode ?? errorCode);
 * });
 * ```
 *
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { StaleReason } from '../errors.js';

/** A share was mounted at its mount path (a first mount, or the mount half of a repair). */
export interface MountMessage {
  /** `<mountPointBase>/<md5 of the export>`. */
  mountPath: string;
  /** The normalised export that was mounted (`host[:port]/volume`, no `quobyte://`). */
  export: string;
  /** From the start of the mount command to the mount answering as healthy, in milliseconds. */
  durationMs: number;
}

/** A mount was unmounted (the last attachment went, a repair, or `reconcile`). */
export interface UnmountMessage {
  mountPath: string;
  /** `true` when it was detached with `umount -l` because a plain unmount failed or hung. */
  lazy: boolean;
  /** Why it was unmounted. */
  reason: 'last-detach' | 'repair' | 'reconcile';
}

/** A healthy mount was used as it was: no command ran. */
export interface ReuseMessage {
  mountPath: string;
  /** The normalised export. */
  export: string;
}

/** A stale mount is being repaired (unmounted, then mounted again); `mount` follows on success. */
export interface RepairMessage {
  mountPath: string;
  /** The normalised export. */
  export: string;
  /** Why the mount was judged stale. */
  reason: StaleReason;
}

/** A mount did not answer `stat` within the probe timeout. */
export interface UnresponsiveMessage {
  mountPath: string;
  /** The probe timeout that ran out, in milliseconds. */
  timeoutMs: number;
  /**
   * `true` when it is in use (attachments recorded, or open) and was left alone
   * (`VolumeUnresponsiveError`); `false` when it was idle and is being repaired.
   */
  leftAlone: boolean;
}

/** An unmount found the mount busy (open by someone) and left it mounted. */
export interface BusyMessage {
  mountPath: string;
  /** The unmount as the runner was given it. */
  argv: readonly string[];
}

/** A command ran through an instrumented runner ({@link instrumentRunner}), whatever its end. */
export interface CommandMessage {
  /** Program and arguments as the runner was given them (a root helper the runner adds is not shown). */
  argv: readonly string[];
  /** From the call to its end, in milliseconds. */
  durationMs: number;
  /** The exit status when the program ran and exited; `null` when it timed out, was not found, was aborted or killed. */
  exitCode: number | null;
  /**
   * `null` when the command succeeded; else the error's stable code (`ERR_COMMAND_FAILED`,
   * `ERR_COMMAND_TIMEOUT`, `ERR_COMMAND_NOT_FOUND`, `ABORT_ERR` for an abort, `ERR_UNEXPECTED`).
   */
  errorCode: string | null;
}

/** Channel names, by kind of event. */
export const CHANNELS = {
  mount: 'libvirt-volume-driver:mount',
  unmount: 'libvirt-volume-driver:unmount',
  reuse: 'libvirt-volume-driver:reuse',
  repair: 'libvirt-volume-driver:repair',
  unresponsive: 'libvirt-volume-driver:unresponsive',
  busy: 'libvirt-volume-driver:busy',
  command: 'libvirt-volume-driver:command',
} as const;

/** A kind of event: a key of {@link CHANNELS}. */
export type ChannelKind = keyof typeof CHANNELS;

/** The message shape of each kind of event. */
export interface ChannelMessages {
  mount: MountMessage;
  unmount: UnmountMessage;
  reuse: ReuseMessage;
  repair: RepairMessage;
  unresponsive: UnresponsiveMessage;
  busy: BusyMessage;
  command: CommandMessage;
}

/**
 * Publishes one event. `message` may be a function building it, called only when someone
 * listens, so an unobserved event costs a property read.
 */
export function publish<K extends ChannelKind>(kind: K, message: ChannelMessages[K] | (() => ChannelMessages[K])): void {
  const channel = diagnosticsChannel.channel(CHANNELS[kind]);
  if (!channel.hasSubscribers) return;
  channel.publish(typeof message === 'function' ? message() : message);
}

/**
 * Subscribes `listener` to one kind of event, typed; resolves nothing, returns the
 * unsubscribe function. The same as `diagnosticsChannel.subscribe(CHANNELS[kind], ...)`.
 */
export function subscribeChannel<K extends ChannelKind>(kind: K, listener: (message: ChannelMessages[K]) => void): () => void {
  const name = CHANNELS[kind];
  const handler = (message: unknown): void => {
    listener(message as ChannelMessages[K]);
  };
  diagnosticsChannel.subscribe(name, handler);
  return () => {
    diagnosticsChannel.unsubscribe(name, handler);
  };
}
