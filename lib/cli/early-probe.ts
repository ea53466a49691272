/**
 * The probe of a `status` run, started before anything else loads, with `/bin/sh` probe
 * children (`shellChildren`): a Node probe child's start would cost about as much as the rest
 * of the command, and `status` only needs `stat`, `lstat` and `realpath` contained.
 *
 * @module
 */
import { NodeFileSystemProbe } from '../filesystem/node-file-system-probe.js';

let early: NodeFileSystemProbe | undefined;

/** A probe for one look at the mounts under a base. */
export function statusProbe(): NodeFileSystemProbe {
  return new NodeFileSystemProbe({ shellChildren: true });
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
