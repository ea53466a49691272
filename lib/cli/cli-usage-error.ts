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

/**
 * Whether `error` is a {@link CliUsageError}, including one made by another copy of this module:
 * the commands import the driver (and `cli-context.ts` with it) when they run, and where the CLI
 * itself was loaded as CommonJS (tsx under mocha) that import is a second, ES-module copy whose
 * class `instanceof` does not recognise.
 */
export function isCliUsageError(error: unknown): error is CliUsageError {
  return error instanceof CliUsageError || (error instanceof Error && error.name === 'CliUsageError' && (error as { code?: unknown }).code === 'ERR_USAGE');
}
