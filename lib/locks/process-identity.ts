import { readFileSync, readlinkSync } from 'node:fs';

/** What a lock file says about its holder: enough for another process on the host to tell whether it still runs. */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of `/proc/<pid>/stat` (clock ticks since boot): tells a reused pid apart. */
  start: string;
  /** `/proc/sys/kernel/random/boot_id`: a lock file written before a reboot is stale. */
  boot: string;
  /** The pid namespace (`/proc/self/ns/pid`): a pid from another one cannot be looked up here. */
  pidns: string;
}

function readOr(read: () => string, fallback: string): string {
  try {
    return read().trim();
  } catch {
    return fallback;
  }
}

/** The start time of `pid`, or `undefined` when it is gone or a zombie (killed, not yet reaped: its locks are dead). */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last `)`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

/** This process, as a lock file records it. */
export function currentProcessIdentity(): ProcessIdentity {
  return {
    pid: process.pid,
    start: processStartTime(process.pid) ?? '',
    boot: readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'latin1'), ''),
    pidns: readOr(() => readlinkSync('/proc/self/ns/pid'), ''),
  };
}

/**
 * Whether the holder recorded in a lock file is gone, judged from `self`. Only a certain death
 * counts: a holder in another pid namespace, or on a host without `/proc`, is taken as alive.
 */
export function isHolderGone(holder: ProcessIdentity, self: ProcessIdentity): boolean {
  if (holder.boot !== '' && self.boot !== '' && holder.boot !== self.boot) return true;
  if (holder.pidns !== self.pidns || self.start === '') return false;
  const start = processStartTime(holder.pid);
  return start === undefined || start !== holder.start;
}

/** Reads an identity written as JSON; `undefined` for anything else. */
export function parseProcessIdentity(text: string): ProcessIdentity | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = value as Partial<Record<keyof ProcessIdentity, unknown>> | null;
  if (v === null || typeof v !== 'object' || typeof v.pid !== 'number' || typeof v.start !== 'string' || typeof v.boot !== 'string' || typeof v.pidns !== 'string') {
    return undefined;
  }
  return { pid: v.pid, start: v.start, boot: v.boot, pidns: v.pidns };
}
