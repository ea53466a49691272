/**
 * {@link FileSystemProbe.batch} for a probe that has no batch of its own (or runs calls in
 * process): the same calls one after another, with the same stop at the first failure.
 *
 * @module
 */
import type { FileSystemProbe, PathStat, ProbeCall, ProbeCallResult, ProbeOptions } from './file-system-probe.js';
import { probeError } from './probe-child-protocol.js';

/**
 * Runs `calls` in order through the probe's own methods; a `read` needs `readBytes`.
 * @returns One result per call: the first failure ends the batch, and those after it are `undefined`.
 */
export async function runCallsInOrder(probe: Pick<FileSystemProbe, 'stat' | 'lstat' | 'readBytes'>, calls: readonly ProbeCall[], options: ProbeOptions): Promise<ProbeCallResult[]> {
  const results: ProbeCallResult[] = calls.map(() => undefined);
  for (const [index, call] of calls.entries()) {
    try {
      results[index] = { ok: await runCall(probe, call, options) };
    } catch (error) {
      results[index] = { error: error as NodeJS.ErrnoException };
      break;
    }
  }
  return results;
}

async function runCall(probe: Pick<FileSystemProbe, 'stat' | 'lstat' | 'readBytes'>, call: ProbeCall, options: ProbeOptions): Promise<PathStat | Uint8Array> {
  if (call.op === 'read') {
    if (probe.readBytes === undefined) throw probeError('ENOSYS', `this probe cannot read ${call.path}`, call.path);
    return probe.readBytes(call.path, call.position, call.length, options);
  }
  const stat = await probe[call.op](call.path, options);
  if (call.op === 'stat' && call.dev !== undefined && stat.dev !== call.dev) throw probeError('EXDEV', `${call.path} is not on device ${call.dev}`, call.path);
  return stat;
}
