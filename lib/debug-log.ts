import { createRequire } from 'node:module';
import type { Debugger } from 'debug';

/** A `debug` logger: `printf`-style formatter and arguments, written when its namespace is enabled. */
export type DebugLog = (formatter: unknown, ...args: unknown[]) => void;

type CreateDebug = (namespace: string) => Debugger;

const require = createRequire(import.meta.url);

/**
 * The `debug` module, when logging can be on: `DEBUG` is set (debug reads it when it loads), or
 * something in this process has loaded `debug` already (and may have called `enable()`).
 * Otherwise nothing could print, and loading it (supports-color, tty: about 20 ms) would only
 * slow the first operation down.
 */
function loadDebug(): CreateDebug | undefined {
  if (process.env.DEBUG !== undefined && process.env.DEBUG !== '') return require('debug') as CreateDebug;
  const cached = require.cache[require.resolve('debug')];
  return cached?.loaded === true ? (cached.exports as CreateDebug) : undefined;
}

/**
 * A {@link DebugLog} for `namespace` that loads `debug` only once a message could be printed,
 * so importing the package costs nothing for logging. The same namespaces as with
 * `createDebug(namespace)`: `DEBUG=libvirt-volume-driver:*`, or `enable()` on the `debug` this
 * package resolves.
 */
export function createDebugLog(namespace: string): DebugLog {
  let log: Debugger | undefined;
  return (formatter, ...args) => {
    if (log === undefined) {
      const createDebug = loadDebug();
      if (createDebug === undefined) return;
      log = createDebug(namespace);
    }
    log(formatter, ...args);
  };
}
