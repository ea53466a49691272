/**
 * The wire protocol between `ProbeChildPool` and its probe children: one JSON object per
 * line, each way. The child says `{"ready":<pid>}` once, then answers each request
 * `{"id":n,"op":...,"path":...}` with `{"id":n,"ok":value}` or `{"id":n,"error":{...}}`.
 *
 * @module
 */
import type { PathStat, ProbeCall, ProbeCallResult } from './file-system-probe.js';

/**
 * What a probe child can be asked to do; each is one blocking system call (or a few). A
 * `batch` runs its calls in order until one fails, and answers an array: `{ ok }`, `{ error }`,
 * or `null` for a call that did not run.
 */
export type ProbeRequestBody =
  | { op: 'stat' | 'lstat' | 'realpath' | 'mkdir' | 'rmdir'; path: string }
  | { op: 'access'; path: string; mode: number }
  | { op: 'read'; path: string; position: number; length: number }
  | { op: 'batch'; calls: ProbeCall[] };

/** A request as sent, with the id its answer carries. */
export type ProbeRequest = ProbeRequestBody & { id: number };

/** An error as the child saw it: the parts of a Node system error that survive JSON. */
export interface WireError {
  code?: string;
  message: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

/** One message from a child. */
export type ProbeChildMessage =
  | { kind: 'ready'; pid: number }
  | { kind: 'ok'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: WireError };

/** The path a request is about, for messages: a batch's first. */
export function requestPath(request: ProbeRequestBody): string {
  return request.op === 'batch' ? (request.calls[0]?.path ?? '') : request.path;
}

/** One request as a line of the protocol. */
export function encodeRequest(request: ProbeRequest): string {
  return `${JSON.stringify(request)}\n`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses one line from a child.
 *
 * @throws {SyntaxError} When the line is not one of the protocol's messages (a child that
 *   prints anything else is broken, and is replaced).
 */
export function parseMessage(line: string): ProbeChildMessage {
  const value: unknown = JSON.parse(line);
  if (!isRecord(value)) throw new SyntaxError(`Expected a probe child message, got ${line.slice(0, 80)}`);
  if (typeof value.ready === 'number') return { kind: 'ready', pid: value.ready };
  if (typeof value.id !== 'number') throw new SyntaxError(`Expected a message id, got ${line.slice(0, 80)}`);
  if ('ok' in value) return { kind: 'ok', id: value.id, value: value.ok };
  const error = value.error;
  if (!isRecord(error) || typeof error.message !== 'string') throw new SyntaxError(`Expected ok or error, got ${line.slice(0, 80)}`);
  return { kind: 'error', id: value.id, error: { message: error.message, ...pick(error) } };
}

/** Splits a byte stream into lines; a line may arrive in several chunks. */
export class LineDecoder {
  #rest = '';

  /** Feeds a chunk; returns the complete lines it finished. */
  push(chunk: string): string[] {
    const text = this.#rest + chunk;
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    return lines.filter((line) => line !== '');
  }
}

/** The error the caller sees, rebuilt from the child's: same `code`, `errno`, `syscall`, `path`. */
export function toErrnoException(wire: WireError): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(wire.message);
  if (wire.code !== undefined) error.code = wire.code;
  if (wire.errno !== undefined) error.errno = wire.errno;
  if (wire.syscall !== undefined) error.syscall = wire.syscall;
  if (wire.path !== undefined) error.path = wire.path;
  return error;
}

/**
 * A `batch` answer, call by call: stats checked field by field, reads decoded from base64.
 *
 * @throws {TypeError} When the answer is not an array of `{ ok }`, `{ error }` or `null`.
 */
export function toCallResults(calls: readonly ProbeCall[], value: unknown): ProbeCallResult[] {
  if (!Array.isArray(value) || value.length > calls.length) throw new TypeError('Expected a batch answer');
  return calls.map((call, index): ProbeCallResult => {
    const answer: unknown = value[index];
    if (answer === undefined || answer === null) return undefined;
    if (!isRecord(answer)) throw new TypeError('Expected a batch answer');
    if ('ok' in answer) return { ok: call.op === 'read' ? new Uint8Array(Buffer.from(String(answer.ok), 'base64')) : toPathStat(answer.ok) };
    const error = answer.error;
    if (!isRecord(error) || typeof error.message !== 'string') throw new TypeError('Expected a batch answer');
    return { error: toErrnoException({ message: error.message, ...pick(error) }) };
  });
}

function pick(error: Record<string, unknown>): Omit<WireError, 'message'> {
  const wire: Omit<WireError, 'message'> = {};
  for (const key of ['code', 'syscall', 'path'] as const) if (typeof error[key] === 'string') wire[key] = error[key];
  if (typeof error.errno === 'number') wire.errno = error.errno;
  return wire;
}

/** An error with an errno-style `code`, for failures of the probe itself. */
export function probeError(code: string, message: string, path?: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  error.code = code;
  if (path !== undefined) error.path = path;
  return error;
}

/**
 * A `stat` answer checked field by field.
 *
 * @throws {TypeError} When a field is missing or of the wrong type.
 */
export function toPathStat(value: unknown): PathStat {
  if (!isRecord(value)) throw new TypeError('Expected a stat answer');
  const numbers = ['size', 'mode', 'uid', 'gid', 'dev', 'ino'] as const;
  const flags = ['isFile', 'isDirectory', 'isSymbolicLink'] as const;
  for (const key of numbers) if (typeof value[key] !== 'number') throw new TypeError(`Expected a number in stat.${key}`);
  for (const key of flags) if (typeof value[key] !== 'boolean') throw new TypeError(`Expected a boolean in stat.${key}`);
  const v = value as Record<(typeof numbers)[number], number> & Record<(typeof flags)[number], boolean>;
  return { size: v.size, mode: v.mode, uid: v.uid, gid: v.gid, isFile: v.isFile, isDirectory: v.isDirectory, isSymbolicLink: v.isSymbolicLink, dev: v.dev, ino: v.ino };
}
