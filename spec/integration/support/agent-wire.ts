/**
 * Values between the test process and the unprivileged agent child (fixtures/agent-server.ts),
 * one JSON line each way: errors keep their class (rebuilt from the library's error classes by
 * name, with their own fields, message and cause), so `rejectedWith(SomeError)` and
 * `instanceOf` hold in both modes; Maps stay Maps.
 */
import * as errors from '../../../lib/errors.js';

type Fields = Record<string, unknown>;

/** A value as JSON can carry it. */
export function toWire(value: unknown): unknown {
  if (value instanceof Error) {
    const fields: Fields = {};
    for (const key of Object.keys(value)) fields[key] = toWire((value as unknown as Fields)[key]);
    return { $error: { ...fields, name: value.name, message: value.message, ...(value.cause === undefined ? {} : { cause: toWire(value.cause) }) } };
  }
  if (value instanceof Map) return { $map: [...(value as Map<unknown, unknown>)].map(([key, entry]) => [toWire(key), toWire(entry)]) };
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, toWire(entry)]));
  return value;
}

/** The library's error class of that name, or `Error`. */
function errorPrototype(name: unknown): object {
  const found = typeof name === 'string' ? (errors as unknown as Fields)[name] : undefined;
  return typeof found === 'function' && found.prototype instanceof Error ? (found.prototype) : Error.prototype;
}

function rebuildError(fields: Fields): Error {
  const error = Object.create(errorPrototype(fields.name)) as Error;
  const { message, cause, ...own } = fields;
  Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true });
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: fromWire(cause), writable: true, configurable: true });
  for (const [key, value] of Object.entries(own)) Object.defineProperty(error, key, { value: fromWire(value), writable: true, configurable: true, enumerable: true });
  Object.defineProperty(error, 'stack', { value: `${String(fields.name)}: ${String(message)}\n    at the unprivileged agent (fixtures/agent-server.ts)`, configurable: true });
  return error;
}

/** The value {@link toWire} was given. */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value === null || typeof value !== 'object') return value;
  const fields = value as Fields;
  if (fields.$error !== undefined) return rebuildError(fields.$error as Fields);
  if (fields.$map !== undefined) return new Map((fields.$map as Array<[unknown, unknown]>).map(([key, entry]) => [fromWire(key), fromWire(entry)]));
  return Object.fromEntries(Object.entries(fields).map(([key, entry]) => [key, fromWire(entry)]));
}
