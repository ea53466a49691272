/**
 * A fake compute host for unit tests: a mount table, stat answers and a command runner whose
 * `mount.quobyte`, `mount -t nfs|nfs4` and `umount` change that table, the way the kernel would.
 * Tests assert on the argv the runner received and on the mount table.
 */
import sinon from 'sinon';
import type { Command, CommandResult, CommandRunner, RunOptions } from '../../lib/commands/command-runner.js';
import { CommandFailedError, CommandTimeoutError } from '../../lib/errors.js';
import type { FileSystemProbe, FuseAbortResult, MountEntry, PathStat, ProbeOptions } from '../../lib/filesystem/file-system-probe.js';

/** Every method of T as a sinon spy, so tests can ask how it was called. */
export type Spied<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? sinon.SinonSpy<A, R> : T[K] };

/** How `stat` of a path answers. */
export type StatAnswer = PathStat | { errno: string };

export interface FakeHostOptions {
  /** Name of PID 1. @default 'init' */
  init?: string;
  /** Output of `systemctl is-system-running`. @default 'running' */
  systemState?: string;
}

function errnoError(code: string, path: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: fake, '${path}'`);
  error.code = code;
  return error;
}

export function directoryStat(dev: number, size = 0): PathStat {
  return { size, mode: 0o40755, uid: 0, gid: 0, isFile: false, isDirectory: true, isSymbolicLink: false, dev, ino: 1 };
}

export function fileStat(size: number): PathStat {
  return { size, mode: 0o100644, uid: 0, gid: 0, isFile: true, isDirectory: false, isSymbolicLink: false, dev: 99, ino: 7 };
}

export class FakeHost {
  mounts: MountEntry[] = [];
  readonly stats = new Map<string, StatAnswer>();
  /** What the layer below answers once the top of a stack at the path is unmounted. */
  readonly uncovered = new Map<string, StatAnswer>();
  readonly lstats = new Map<string, StatAnswer>();
  readonly directories = new Set<string>();
  readonly files = new Map<string, Uint8Array>();
  readonly paths = new Set<string>();
  readonly commands: Command[] = [];
  readonly aborted: number[] = [];
  /** Processes holding files open under a path (what `/proc` would show). */
  readonly openFiles = new Map<string, number>();
  /** Paths whose plain `umount` fails as busy. */
  readonly busy = new Set<string>();
  /** Paths whose plain `umount` hangs until the timeout (a hung FUSE mount). */
  readonly hangingUmount = new Set<string>();
  /** When set, `mount.quobyte` and `mount -t nfs|nfs4` fail with this stderr. */
  mountFailure: string | undefined;
  /** When set, `mount.quobyte` and `mount -t nfs|nfs4` resolve only when this promise does. */
  mountGate: Promise<void> | undefined;
  init: string;
  systemState: string;
  #nextMinor = 40;
  readonly #parentDev = 2049;

  readonly runner: CommandRunner & { run: sinon.SinonSpy<[command: Command, runOptions?: RunOptions | undefined], Promise<CommandResult>> };
  readonly probe: Spied<Required<Omit<FileSystemProbe, 'secureMountBase' | 'createMountDirectory' | 'batch'>>>;

  constructor(options: FakeHostOptions = {}) {
    this.init = options.init ?? 'init';
    this.systemState = options.systemState ?? 'running';
    this.runner = { run: sinon.spy((command: Command, runOptions?: RunOptions) => this.#run(command, runOptions)) };
    const answer = (table: Map<string, StatAnswer>, path: string): Promise<PathStat> => {
      const found = table.get(path) ?? this.#defaultStat(path);
      return 'errno' in found ? Promise.reject(errnoError(found.errno, path)) : Promise.resolve(found);
    };
    this.probe = {
      listMounts: sinon.spy(() => Promise.resolve(this.mounts.map((entry) => ({ ...entry })))),
      stat: sinon.spy((path: string, _options?: ProbeOptions) => answer(this.stats, path)),
      lstat: sinon.spy((path: string, _options?: ProbeOptions) => answer(this.lstats, path)),
      isWritable: sinon.spy((_path: string) => Promise.resolve(true)),
      ensureDirectory: sinon.spy((path: string) => {
        this.directories.add(path);
        return Promise.resolve();
      }),
      removeDirectory: sinon.spy((path: string) => {
        if (this.mounts.some((entry) => entry.mountPoint === path)) return Promise.reject(errnoError('EBUSY', path));
        if (!this.directories.delete(path)) return Promise.reject(errnoError('ENOENT', path));
        return Promise.resolve();
      }),
      pathExists: sinon.spy((path: string) => Promise.resolve(this.paths.has(path) || this.directories.has(path))),
      readInitProcessName: sinon.spy(() => Promise.resolve(this.init)),
      realPath: sinon.spy((path: string) => Promise.resolve(path.replace(/\/+$/, ''))),
      readBytes: sinon.spy((path: string, position: number, length: number) =>
        Promise.resolve((this.files.get(path) ?? new Uint8Array()).subarray(position, position + length))),
      abortFuseConnection: sinon.spy((minor: number): Promise<FuseAbortResult> => {
        this.aborted.push(minor);
        return Promise.resolve('aborted');
      }),
      countOpenFilesUnder: sinon.spy((path: string) => Promise.resolve(this.openFiles.get(path) ?? 0)),
      fuseWaiting: sinon.spy((_minor: number): Promise<number | undefined> => Promise.resolve(0)),
    };
  }

  /** Puts a healthy Quobyte mount at `mountPoint`, as a previous run would have left it. */
  addQuobyteMount(mountPoint: string, source = 'quobyte@registry/volume'): MountEntry {
    const minor = this.#nextMinor++;
    const entry: MountEntry = { mountPoint, source, fsType: 'fuse.quobyte', options: ['rw'], device: `0:${minor}` };
    this.mounts.push(entry);
    this.directories.add(mountPoint);
    this.stats.set(mountPoint, directoryStat(minor));
    return entry;
  }

  /** Puts a healthy NFS mount at `mountPoint` (type `nfs4` unless given), as the kernel shows one. */
  addNfsMount(mountPoint: string, source = 'nfs-server:/export', fsType = 'nfs4'): MountEntry {
    const minor = this.#nextMinor++;
    const entry: MountEntry = { mountPoint, source, fsType, options: ['rw'], device: `0:${minor}` };
    this.mounts.push(entry);
    this.directories.add(mountPoint);
    // An NFS root reports the server directory's size, not 0.
    this.stats.set(mountPoint, directoryStat(minor, 4096));
    return entry;
  }

  /** Whether something is mounted at the path. */
  isMounted(mountPoint: string): boolean {
    return this.mounts.some((entry) => entry.mountPoint === mountPoint);
  }

  /** The argv of every command run, as `file arg arg`. */
  get argv(): string[] {
    return this.commands.map((command) => [command.file, ...command.args].join(' '));
  }

  #defaultStat(path: string): StatAnswer {
    if (this.directories.has(path)) return directoryStat(this.#parentDev);
    return { errno: 'ENOENT' };
  }

  async #run(command: Command, options: RunOptions = {}): Promise<CommandResult> {
    this.commands.push(command);
    options.signal?.throwIfAborted();
    const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
    const fail = (exitCode: number, stderr: string): never => {
      throw new CommandFailedError({ command, exitCode, stdout: '', stderr });
    };
    const [file, args] = command.file === 'systemd-run' ? [command.args[1], command.args.slice(2)] : [command.file, command.args];
    switch (file) {
      case 'systemctl':
        return ok(`${this.systemState}\n`);
      case 'mount.quobyte': {
        if (this.mountGate !== undefined) await this.mountGate;
        if (this.mountFailure !== undefined) fail(1, this.mountFailure);
        const positional = args.filter((arg, index) => !arg.startsWith('-') && args[index - 1] !== '-c');
        const [volume, mountPoint] = positional;
        if (volume === undefined || mountPoint === undefined) return fail(2, 'usage');
        if (!this.directories.has(mountPoint)) fail(1, `mount point ${mountPoint} does not exist`);
        this.addQuobyteMount(mountPoint, `quobyte@${volume}`);
        return ok();
      }
      case 'umount': {
        const lazy = args[0] === '-l';
        const mountPoint = args[args.length - 1] ?? '';
        if (!lazy && this.hangingUmount.has(mountPoint)) {
          throw new CommandTimeoutError({ command, timeoutMs: options.timeoutMs ?? 0 });
        }
        if (!lazy && this.busy.has(mountPoint)) fail(32, `umount: ${mountPoint}: target is busy.\n`);
        const index = this.mounts.findLastIndex((entry) => entry.mountPoint === mountPoint);
        if (index < 0) fail(32, `umount: ${mountPoint}: not mounted.\n`);
        this.mounts.splice(index, 1);
        // A layer below a removed one answers again (healthy unless a test says otherwise).
        const below = this.mounts.findLast((entry) => entry.mountPoint === mountPoint);
        if (below === undefined) this.stats.delete(mountPoint);
        else this.stats.set(mountPoint, this.uncovered.get(mountPoint) ?? directoryStat(Number(below.device?.split(':')[1] ?? 0)));
        return ok();
      }
      case 'mount': {
        // `mount -t nfs4 [-o opts] <export> <mount point>`; any other `mount` (fusectl) just succeeds.
        const fsType = args[0] === '-t' ? args[1] : undefined;
        if (fsType !== 'nfs' && fsType !== 'nfs4') return ok();
        if (this.mountGate !== undefined) await this.mountGate;
        if (this.mountFailure !== undefined) fail(32, this.mountFailure);
        const positional = args.slice(2).filter((arg, index, rest) => !arg.startsWith('-') && rest[index - 1] !== '-o');
        const [source, mountPoint] = positional;
        if (source === undefined || mountPoint === undefined) return fail(1, 'usage');
        if (!this.directories.has(mountPoint)) fail(32, `mount point ${mountPoint} does not exist`);
        this.addNfsMount(mountPoint, source, fsType);
        return ok();
      }
      default:
        return fail(127, `${String(file)}: not found`);
    }
  }
}
