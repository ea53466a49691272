import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, opendirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, writeFileSync, type Dir, type Dirent, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AttachmentStoreError } from '../errors.js';
import { inheritOwner, type Owner } from '../filesystem/inherit-owner.js';

/** The first line of `<dir>/.format`: a folder without it is not a store this code may write. */
export const STORE_FORMAT = 'libvirt-volume-driver attachment store 2';
/** The folder of the host-wide mount locks, inside the store's folder. */
export const LOCKS_FOLDER = '.locks';

/** Where a store lives, resolved once. */
export interface StoreDirectory {
  /** The real path of `<filePath>.d`: one folder per mount point, one empty file per attachment. */
  path: string;
  /** The real path of the first-format JSON file, migrated when present. */
  jsonPath: string;
  /** Who owns the folder; what this process creates there gets it too (when root). */
  owner: Owner;
  dirMode: number;
  fileMode: number;
}

function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

/** Syncs a folder so the names created or removed in it survive a power loss. */
export function fsyncFolder(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Work done between two yields to the event loop when reading a whole folder. */
const SLICE_MS = 4;

/**
 * The entries of a folder, read a few at a time with synchronous calls (a local folder; no
 * thread-pool round trip per batch), yielding to the event loop every {@link SLICE_MS} ms of
 * work, the caller's included, so a folder of any size never holds the loop up.
 * @throws what `wrap` makes of an error opening the folder
 */
export async function* readFolderInSlices(path: string, wrap: (error: unknown) => Error): AsyncGenerator<Dirent, void, undefined> {
  let dir: Dir;
  try {
    dir = opendirSync(path, { bufferSize: 64 });
  } catch (error) {
    throw wrap(error);
  }
  try {
    let sliceStart = performance.now();
    for (let entry = dir.readSync(); entry !== null; entry = dir.readSync()) {
      yield entry;
      if (performance.now() - sliceStart > SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  } finally {
    dir.closeSync();
  }
}

/** Links followed before a chain counts as a loop (Linux's own limit). */
const MAX_LINKS = 40;

/**
 * Resolves the given path once: a link is followed to its target. The target itself need not
 * exist (the records live in `<target>.d`, and a migrated first-format file is renamed away),
 * but its folder must: a link into a missing folder, or a loop, is refused.
 */
function resolveJsonPath(filePath: string, create: boolean): string | undefined {
  const parent = dirname(filePath);
  if (!create && lstatOrUndefined(parent) === undefined) return undefined;
  // A missing parent is created private (issue 12): the store tells who uses which share.
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  let path = join(realpathSync(parent), basename(filePath));
  for (let links = 0; lstatOrUndefined(path)?.isSymbolicLink() === true; links += 1) {
    const target = resolve(dirname(path), readlinkSync(path));
    try {
      if (links >= MAX_LINKS) throw new Error('too many levels of links');
      path = join(realpathSync(dirname(target)), basename(target));
    } catch (error) {
      throw new AttachmentStoreError(filePath, `The attachment store ${filePath} is a link that leads nowhere (${target}: ${(error as Error).message}); refused`, { cause: error });
    }
  }
  return path;
}

/** Makes the folder whole under a temporary name and renames it in, so it is never seen half made. */
function createStoreFolder(path: string, owner: Owner, dirMode: number, fileMode: number): void {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    mkdirSync(temporary, { mode: dirMode });
    chmodSync(temporary, dirMode);
    inheritOwner(temporary, owner);
    const format = join(temporary, '.format');
    writeFileSync(format, `${STORE_FORMAT}\n`, { mode: fileMode, flag: 'wx' });
    inheritOwner(format, owner);
    mkdirSync(join(temporary, LOCKS_FOLDER), { mode: dirMode });
    inheritOwner(join(temporary, LOCKS_FOLDER), owner);
    fsyncFolder(temporary);
    try {
      renameSync(temporary, path);
    } catch (error) {
      // Another process made it first: use theirs.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
    fsyncFolder(dirname(path));
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}

/**
 * Writes the format line and the locks folder into an empty store folder, in place: an operator
 * pre-creates `<base>/.libvirt-volume-attachments.json.d` owned by an unprivileged agent, which
 * cannot create it in the root-owned base itself (docs/operations.md). Two processes racing here
 * both succeed.
 */
function initialiseEmptyFolder(path: string, owner: Owner, dirMode: number): void {
  const fileMode = dirMode & 0o666;
  try {
    writeFileSync(join(path, '.format'), `${STORE_FORMAT}\n`, { mode: fileMode, flag: 'wx' });
    inheritOwner(join(path, '.format'), owner);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  try {
    mkdirSync(join(path, LOCKS_FOLDER), { mode: dirMode });
    inheritOwner(join(path, LOCKS_FOLDER), owner);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * Finds the store's folder for `filePath`, `<real path of filePath>.d`, every link resolved once so
 * that every process uses the same folder; creates it when `create` is set or a first-format file
 * is there to migrate, else resolves to `undefined` when there is none (an empty store). A new folder takes the
 * owner, group and mode (plus search bits) of the JSON file it replaces, else of its parent
 * folder with mode 0700.
 *
 * @throws {@link AttachmentStoreError} for a dangling link, a folder of another format, or any file error.
 */
export function openStoreDirectory(filePath: string, create: boolean): StoreDirectory | undefined {
  try {
    const jsonPath = resolveJsonPath(filePath, create);
    if (jsonPath === undefined) return undefined;
    const json = lstatOrUndefined(jsonPath);
    if (json !== undefined && !json.isFile()) {
      throw new AttachmentStoreError(filePath, `Cannot read the attachment store ${filePath}: not a regular file; it was left as it is`);
    }
    let path = `${jsonPath}.d`;
    let stats = lstatOrUndefined(path);
    if (stats?.isSymbolicLink() === true) {
      path = realpathSync(path);
      stats = lstatSync(path);
    }
    if (stats === undefined) {
      if (!create && json === undefined) return undefined;
      const like = json?.isFile() === true ? json : lstatSync(dirname(jsonPath));
      const fileMode = json?.isFile() === true ? json.mode & 0o666 : 0o600;
      createStoreFolder(path, { uid: like.uid, gid: like.gid }, fileMode | ((fileMode & 0o444) >> 2), fileMode);
      stats = lstatSync(path);
    }
    if (!stats.isDirectory()) throw new Error('not a folder');
    if (readdirSync(path).length === 0) {
      if (!create) return undefined;
      initialiseEmptyFolder(path, { uid: stats.uid, gid: stats.gid }, stats.mode & 0o777);
    }
    const format = readFileSync(join(path, '.format'), 'utf8').split('\n')[0];
    if (format !== STORE_FORMAT) {
      throw new AttachmentStoreError(filePath, `The attachment store folder ${path} has an unknown format (${JSON.stringify(format)}); it was left as it is`);
    }
    const dirMode = stats.mode & 0o777;
    return { path, jsonPath, owner: { uid: stats.uid, gid: stats.gid }, dirMode, fileMode: dirMode & 0o666 };
  } catch (error) {
    if (error instanceof AttachmentStoreError) throw error;
    throw new AttachmentStoreError(filePath, `Cannot open the attachment store ${filePath}: ${(error as Error).message}`, { cause: error });
  }
}
