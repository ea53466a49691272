/**
 * The probe of a `status` run, started before anything else loads: its probe child (a second
 * Node start, the largest part of what `status` costs) then boots while this process loads the
 * CLI and reads the mount table and the store, not after.
 *
 * @module
 */
import { NodeFileSystemProbe } from '../filesystem/node-file-system-probe.js';

let early: NodeFileSystemProbe | undefined;

/** A probe for one look at the mounts under a base. */
export function statusProbe(): NodeFileSystemProbe {
  return new NodeFileSystemProbe();
}

/** Creates the probe and starts its first child. */
export function startProbeEarly(): void {
  early ??= statusProbe();
  early.warmUp();
}

/** The probe started early, once; `undefined` when none was (or it was taken). */
export function takeEarlyProbe(): NodeFileSystemProbe | undefined {
  const probe = early;
  early = undefined;
  return probe;
}
