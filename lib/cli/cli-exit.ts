/**
 * The exit statuses of `libvirt-volume` beyond success, failure and usage, so a monitor (or a
 * script) can tell "could not look" from "looked and found a problem" without reading text.
 *
 * | status | meaning |
 * |---|---|
 * | 0 | success; for `status`: every own mount healthy and every recorded attachment's share mounted |
 * | 1 | the operation failed (one line on stderr with the error's code) |
 * | 2 | usage error (`ERR_USAGE`) |
 * | 3 | `status`: degraded: a mount stale, unresponsive, foreign, not checkable, not mounted though attachments are recorded, or orphaned; `reconcile`: something is left for an operator (kept, missing, stacked, foreign) |
 * | 4 | `status`, `reconcile`: the base, or the folder of the state file, does not exist (`ERR_BASE_NOT_FOUND`, `ERR_STATE_DIR_NOT_FOUND`) |
 * | 5 | `disconnect`: the attachment was dropped but the share is busy and stays mounted |
 * | 6 | `connect`, `repair`: the mount is hung and in use and was left alone (`ERR_VOLUME_UNRESPONSIVE`); `repair --force` replaces it |
 *
 * @module
 */

/** `status`: at least one mount path has a problem. */
export const EXIT_DEGRADED = 3;
/** `status`: the base or the state file's folder does not exist. */
export const EXIT_NOT_FOUND = 4;
/** `disconnect`: the last attachment went, but the unmount found the share busy. */
export const EXIT_BUSY = 5;
/** `connect`, `repair`: a hung mount in use was left alone (`ERR_VOLUME_UNRESPONSIVE`). */
export const EXIT_UNRESPONSIVE = 6;

/**
 * Ends a command with `exitCode` after it has written its output; nothing more is printed.
 * Thrown by a command's action, caught by `runCli`.
 */
export class CliExit extends Error {
  readonly exitCode: number;

  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
    this.exitCode = exitCode;
  }
}

/** A path the command needs does not exist: reported in one line with {@link EXIT_NOT_FOUND}. */
export class CliNotFoundError extends Error {
  readonly code: 'ERR_BASE_NOT_FOUND' | 'ERR_STATE_DIR_NOT_FOUND';
  readonly exitCode = EXIT_NOT_FOUND;
  /** The missing path. */
  readonly path: string;

  constructor(code: CliNotFoundError['code'], path: string, message: string, options: { cause?: unknown } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'CliNotFoundError';
    this.code = code;
    this.path = path;
  }
}
