/**
 * `libvirt-volume-helper`: the only program an unprivileged agent may run as root. It takes a
 * verb and an export, never a path: it checks the export, computes `<base>/<md5>` from its
 * root-owned configuration, and acts only there. Exit statuses: {@link HELPER_EXIT}.
 *
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readdirSync, readFileSync, rmdirSync, writeSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { HELPER_EXIT } from '../drivers/helper-commands.js';
import { checkQuobyteExport, isQuobyteMount, mountDirectoryName, normalizeQuobyteExport, quobyteMountCommand } from '../drivers/quobyte-export.js';
import { InsecureMountBaseError } from '../errors.js';
import { checkMountBase } from '../filesystem/check-mount-base.js';
import { countOpenFilesUnder } from '../filesystem/count-open-files.js';
import { ensureMountDirectory } from '../filesystem/ensure-mount-directory.js';
import type { MountEntry } from '../filesystem/file-system-probe.js';
import { parseMountInfo } from '../filesystem/parse-mount-info.js';
import { HelperConfigError, readHelperConfig, type HelperConfig } from './read-helper-config.js';

export const DEFAULT_HELPER_CONFIG = '/etc/libvirt-volume/helper.json';
const USAGE = 'usage: libvirt-volume-helper [--config FILE] mount|umount|abort EXPORT [--lazy (umount)|--force (abort)]';
const FUSE_CONNECTIONS = '/sys/fs/fuse/connections';
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Where the helper's output goes and what its commands see; the defaults are the process's. */
export interface HelperOptions {
  /** Environment of the commands it runs; `LC_ALL=C` is always added (umount's busy text). */
  env?: NodeJS.ProcessEnv;
  /** Receives each message line (default: standard error). */
  report?: (line: string) => void;
}

interface Act {
  config: HelperConfig;
  exportName: string;
  mountPath: string;
  base: string;
  lazy: boolean;
  force: boolean;
  run: (argv: readonly string[]) => Promise<number>;
}

/** Refused for a reason the caller cannot fix by retrying: exit {@link HELPER_EXIT}.refused. */
class Refusal extends Error {}

/** The topmost mount at exactly `path`, from the whole table; a link is never resolved. */
function mountAt(path: string): MountEntry | undefined {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).findLast((entry) => entry.mountPoint === path);
}

/** rmdir(2) follows no link and removes nothing mounted or non-empty. */
function removeDirectoryQuietly(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    // kept: not there, not empty, or mounted on
  }
}

function ourMount(act: Act): MountEntry | undefined {
  const entry = mountAt(act.mountPath);
  if (entry !== undefined && !isQuobyteMount(entry)) throw new Refusal(`${act.mountPath} holds another file system (${entry.fsType} from ${entry.source})`);
  return entry;
}

async function mount(act: Act): Promise<number> {
  if (ourMount(act) !== undefined) return HELPER_EXIT.nothingToDo;
  await ensureMountDirectory(act.base, mountDirectoryName(act.exportName));
  const { file, args } = quobyteMountCommand(act.exportName, act.mountPath, act.config.clientConfigFile);
  const status = await act.run(act.config.systemd ? ['systemd-run', '--scope', file, ...args] : [file, ...args]);
  if (ourMount(act) !== undefined) return HELPER_EXIT.ok;
  removeDirectoryQuietly(act.mountPath);
  throw new Error(`mount.quobyte exited ${status} and nothing of ours is mounted at ${act.mountPath}`);
}

async function umount(act: Act): Promise<number> {
  if (ourMount(act) === undefined) {
    removeDirectoryQuietly(act.mountPath);
    return HELPER_EXIT.nothingToDo;
  }
  // --no-canonicalize: the path is used as it is, never resolved through a link.
  const status = await act.run(['umount', '--no-canonicalize', ...(act.lazy ? ['-l'] : []), act.mountPath]);
  if (status === 0) removeDirectoryQuietly(act.mountPath);
  return status === 0 ? HELPER_EXIT.ok : status === HELPER_EXIT.umountFailed ? HELPER_EXIT.umountFailed : HELPER_EXIT.failed;
}

/** Writes 1 to fusectl's abort file of the mount's connection; never touches the hung mount itself. */
async function abort(act: Act): Promise<number> {
  const entry = ourMount(act);
  if (entry === undefined) return HELPER_EXIT.nothingToDo;
  const minor = /^0:(\d+)$/.exec(entry.device ?? '')?.[1];
  if (minor === undefined) throw new Refusal(`${act.mountPath} has no FUSE connection (device ${entry.device ?? 'unknown'})`);
  // Only root sees every process's open files: an unprivileged caller would count a guest's
  // qemu as nobody and abort a share in use. Slow is not dead: in use, it is left alone.
  const users = act.force ? 0 : await countOpenFilesUnder(act.mountPath);
  if (users > 0) throw new Refusal(`${act.mountPath} is in use (files open by ${users} process(es)); not aborted (--force aborts it anyway)`);
  if (readdirSync(FUSE_CONNECTIONS).length === 0 && (await act.run(['mount', '-t', 'fusectl', 'fusectl', FUSE_CONNECTIONS])) !== 0) {
    throw new Error(`fusectl could not be mounted at ${FUSE_CONNECTIONS}`);
  }
  const fd = openSync(join(FUSE_CONNECTIONS, minor, 'abort'), constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    writeSync(fd, '1');
  } finally {
    closeSync(fd);
  }
  return HELPER_EXIT.ok;
}

const VERBS = { mount, umount, abort } as const;

/** Runs argv as a child with the helper's stdio; a signal to the helper reaches it too. */
function runCommand(env: NodeJS.ProcessEnv, argv: readonly string[]): Promise<number> {
  const [file = '', ...args] = argv;
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    for (const signal of FORWARDED) process.on(signal, forward);
    const done = (status: number): void => {
      for (const signal of FORWARDED) process.off(signal, forward);
      resolve(status);
    };
    child.on('error', () => { done(127); });
    child.on('exit', (code) => { done(code ?? HELPER_EXIT.failed); });
  });
}

/** Journal or syslog (`logger`, auth facility); the line goes to the caller's stderr as well. */
function audit(line: string, report: (line: string) => void): void {
  spawnSync('logger', ['-t', 'libvirt-volume-helper', '-p', 'auth.notice', '--', line], { stdio: 'ignore', timeout: 5000 });
  report(`libvirt-volume-helper: ${line}`);
}

/**
 * Parses `[--config FILE] VERB EXPORT [--lazy | --force]` and acts.
 * @returns The exit status ({@link HELPER_EXIT}); never throws.
 */
export async function runHelper(argv: readonly string[], options: HelperOptions = {}): Promise<number> {
  const report = options.report ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const [configFile, rest] = argv[0] === '--config' ? [argv[1] ?? '', argv.slice(2)] : [DEFAULT_HELPER_CONFIG, argv];
  const [verb, given, flag, ...extra] = rest;
  if (!isAbsolute(configFile) || (verb !== 'mount' && verb !== 'umount' && verb !== 'abort') || given === undefined || extra.length > 0 || (flag !== undefined && !((verb === 'umount' && flag === '--lazy') || (verb === 'abort' && flag === '--force')))) {
    report(USAGE);
    return HELPER_EXIT.usage;
  }
  const exportName = normalizeQuobyteExport(given);
  const who = `uid ${process.env.SUDO_UID ?? String(process.getuid?.())}`;
  let status: number;
  let outcome: string;
  try {
    checkQuobyteExport(exportName);
    const config = readHelperConfig(configFile);
    const base = await checkMountBase(config.mountPointBase);
    const env = { ...(options.env ?? process.env), LC_ALL: 'C' };
    const act = { config, exportName, base, mountPath: join(base, mountDirectoryName(exportName)), lazy: flag === '--lazy', force: flag === '--force', run: (a: readonly string[]) => runCommand(env, a) };
    status = await VERBS[verb](act);
    outcome = `${act.mountPath}: ${status === HELPER_EXIT.ok ? 'done' : status === HELPER_EXIT.nothingToDo ? 'nothing to do' : `failed (${status})`}`;
  } catch (error) {
    const refused = error instanceof Refusal || error instanceof HelperConfigError || error instanceof InsecureMountBaseError;
    const invalid = (error as { code?: unknown }).code === 'ERR_INVALID_CONNECTION_INFO';
    status = invalid ? HELPER_EXIT.usage : refused ? HELPER_EXIT.refused : HELPER_EXIT.failed;
    outcome = `${invalid || refused ? 'refused' : 'failed'}: ${(error as Error).message}`;
  }
  audit(`${who}: ${verb} ${JSON.stringify(exportName.slice(0, 200))}: ${outcome}`, report);
  return status;
}
