/**
 * A probe child that is `/bin/sh` running coreutils' `stat` and `realpath`: it starts in a
 * millisecond where a Node probe child takes a Node start (about as long as the rest of a CLI
 * command), so a one-shot command that looks at a few mounts (`libvirt-volume status`) pays
 * almost nothing for containment. It does `stat`, `lstat` and `realpath` of one path per
 * request; anything else is refused (`ENOSYS`), and so is a path it cannot carry on one line.
 *
 * Lines: `ready <pid>` once; requests `<id> <op> <path>`; answers
 * `<id> 0 <dev> <mode hex> <size> <uid> <gid> <ino>` (stat, lstat), `<id> 0 <path>` (realpath) or
 * `<id> <status> <message>`, whose message ends in the C-locale `strerror` text.
 *
 * @module
 */
import type { ProbeChildProgram } from './probe-child-program.js';
import { probeError, type ProbeChildMessage, type ProbeRequest } from './probe-child-protocol.js';

/** `strerror` texts (C locale) of the errors a mount or a path can give, by errno name. */
const ERRNO_BY_MESSAGE: ReadonlyMap<string, string> = new Map([
  ['No such file or directory', 'ENOENT'],
  ['Transport endpoint is not connected', 'ENOTCONN'],
  ['Software caused connection abort', 'ECONNABORTED'],
  ['Stale file handle', 'ESTALE'],
  ['Input/output error', 'EIO'],
  ['Permission denied', 'EACCES'],
  ['Operation not permitted', 'EPERM'],
  ['Too many levels of symbolic links', 'ELOOP'],
  ['Not a directory', 'ENOTDIR'],
  ['Host is down', 'EHOSTDOWN'],
  ['Connection timed out', 'ETIMEDOUT'],
]);

const SCRIPT = `echo "ready $$"
while IFS=' ' read -r id op path; do
  case $op in
    stat) out=$(stat -L --printf '%d %f %s %u %g %i' -- "$path" 2>&1) ;;
    lstat) out=$(stat --printf '%d %f %s %u %g %i' -- "$path" 2>&1) ;;
    realpath) out=$(realpath -e -- "$path" 2>&1) ;;
    *) out="unknown operation"; false ;;
  esac
  code=$?
  printf '%s %s %s\\n' "$id" "$code" "$out"
done
`;

const S_IFMT = 0o170000;

/** The shell probe program. */
export function shellProbeProgram(): ProbeChildProgram {
  return { file: '/bin/sh', args: ['-c', SCRIPT], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' }, ownGroup: true, encode, decode };
}

/** Whether this program can carry a request: one of its operations, on a path that fits one line. */
export function shellCanRun(op: string, path: string): boolean {
  return (op === 'stat' || op === 'lstat' || op === 'realpath') && path.startsWith('/') && !/[\n\r\0]|^\s|\s$/.test(path);
}

function encode(request: ProbeRequest): string {
  if (request.op === 'batch' || !shellCanRun(request.op, request.path)) return `${request.id} refuse /\n`;
  return `${request.id} ${request.op} ${request.path}\n`;
}

function decode(line: string): ProbeChildMessage {
  const ready = /^ready (\d+)$/.exec(line);
  if (ready !== null) return { kind: 'ready', pid: Number(ready[1]) };
  const answer = /^(\d+) (\d+) (.*)$/s.exec(line);
  if (answer === null) throw new SyntaxError(`Expected a shell probe answer, got ${line.slice(0, 80)}`);
  const [, id, code, text = ''] = answer;
  if (code !== '0') {
    const message = text.trim();
    const errno = message === 'unknown operation' ? 'ENOSYS' : (ERRNO_BY_MESSAGE.get(message.slice(message.lastIndexOf(': ') + 2)) ?? 'EIO');
    const error = probeError(errno, message.slice(0, 200));
    return { kind: 'error', id: Number(id), error: { code: errno, message: error.message } };
  }
  const fields = text.split(' ');
  if (fields.length !== 6 || !/^\d+ [0-9a-f]+ \d+ \d+ \d+ \d+$/.test(text)) return { kind: 'ok', id: Number(id), value: text };
  const [dev, mode, size, uid, gid, ino] = [Number(fields[0]), Number.parseInt(fields[1] ?? '', 16), Number(fields[2]), Number(fields[3]), Number(fields[4]), Number(fields[5])];
  const type = mode & S_IFMT;
  return { kind: 'ok', id: Number(id), value: { dev, mode, size, uid, gid, ino, isFile: type === 0o100000, isDirectory: type === 0o040000, isSymbolicLink: type === 0o120000 } };
}
