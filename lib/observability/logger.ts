/**
 * The logger a caller may hand the library: any object with `debug`, `info`, `warn` and
 * `error` methods (`console`, pino, winston, bunyan, a test's recorder).
 *
 * @module
 */

/** Something that logs. Each method gets a message and, optionally, one object of details. */
export interface Logger {
  debug(message: string, details?: Readonly<Record<string, unknown>>): void;
  info(message: string, details?: Readonly<Record<string, unknown>>): void;
  warn(message: string, details?: Readonly<Record<string, unknown>>): void;
  error(message: string, details?: Readonly<Record<string, unknown>>): void;
}

/** A logger that drops everything: the default when none is given. */
export const silentLogger: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

/**
 * Checks a caller's `logger` option.
 *
 * @throws TypeError when it is given and lacks one of the four methods
 */
export function checkLogger(logger: unknown, option = 'logger'): Logger {
  if (logger === undefined) return silentLogger;
  if (typeof logger !== 'object' || logger === null) {
    throw new TypeError(`Expected ${option} to be an object with debug, info, warn and error methods, got ${logger === null ? 'null' : typeof logger}`);
  }
  const missing = (['debug', 'info', 'warn', 'error'] as const).filter((method) => typeof (logger as Record<string, unknown>)[method] !== 'function');
  if (missing.length > 0) {
    throw new TypeError(`Expected ${option} to have debug, info, warn and error methods, got one without ${missing.join(', ')}`);
  }
  return logger as Logger;
}
