/**
 * The `AbortError` this library rejects with when a caller's signal aborts, whatever reason the
 * caller gave `abort()` (kept as `cause`).
 *
 * @param what - What was aborted, for the message (`umount /var/lib/nova/mnt/...`,
 *   `connectVolume /var/lib/nova/mnt/...`): "The operation was aborted: <what>". Without it, a
 *   reason that is already an `AbortError` is returned as it is.
 */
export function abortError(signal: AbortSignal | undefined, what?: string): Error {
  const reason: unknown = signal?.reason;
  if (what === undefined && reason instanceof Error && reason.name === 'AbortError') return reason;
  const error = new Error(what === undefined ? 'The operation was aborted' : `The operation was aborted: ${what}`, { cause: reason });
  error.name = 'AbortError';
  return error;
}

/** Throws {@link abortError} (naming `what`, when given) when the signal has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted === true) throw abortError(signal, what);
}
