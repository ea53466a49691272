import type { FuseAbortResult } from '../../../lib/filesystem/file-system-probe.js';
import { NodeFileSystemProbe } from '../../../lib/filesystem/node-file-system-probe.js';

/** The real probe, recording each FUSE connection it aborts in process (a root agent's repair). */
export class RecordingProbe extends NodeFileSystemProbe {
  readonly aborts: number[] = [];
  override async abortFuseConnection(minor: number): Promise<FuseAbortResult> {
    this.aborts.push(minor);
    return super.abortFuseConnection(minor);
  }
}
