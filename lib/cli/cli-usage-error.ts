/**
 * A mistake in how the command line was used: a missing or malformed option, an unknown
 * command, an option value the driver refuses at construction. Exit status 2.
 *
 * @module
 */

/** The command line was used wrongly; reported as `ERR_USAGE` with exit status 2. */
export class CliUsageError extends Error {
  readonly code = 'ERR_USAGE';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'CliUsageError';
  }
}
