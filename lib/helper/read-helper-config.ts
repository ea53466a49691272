import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';

/** `/etc/libvirt-volume/helper.json` as the helper reads it. */
export interface HelperConfig {
  /** Where `<md5>` directories are made; root-owned, not writable by group or others. */
  mountPointBase: string;
  /** Passed to the client as `-c <file>`. */
  clientConfigFile?: string;
  /** Mount in a `systemd-run --scope`; default: when `/run/systemd/system` is a directory. */
  systemd: boolean;
}

/** The configuration file cannot be trusted or read; the helper refuses to act. */
export class HelperConfigError extends Error {
  override readonly name = 'HelperConfigError';
}

const KEYS = new Set(['mountPointBase', 'clientConfigFile', 'systemd']);

function absolutePath(value: unknown, key: string, file: string): string {
  if (typeof value !== 'string' || !isAbsolute(value) || normalize(value) !== value || value === '/' || value.endsWith('/')) {
    throw new HelperConfigError(`${file}: ${key} must be a normalised absolute path other than /`);
  }
  return value;
}

/**
 * Reads the helper's configuration without following a link, and only if root owns it and
 * neither group nor others may write it: whoever can change it picks where root mounts.
 * @throws {@link HelperConfigError}
 */
export function readHelperConfig(file: string): HelperConfig {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new HelperConfigError(code === 'ELOOP' ? `${file} is a symbolic link` : `${file} cannot be opened: ${code ?? String(error)}`);
  }
  let text: string;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.uid !== 0 || (stat.mode & 0o022) !== 0 || stat.size > 65_536) {
      throw new HelperConfigError(`${file} must be a regular file owned by root, not writable by group or others (uid ${stat.uid}, mode ${(stat.mode & 0o7777).toString(8)})`);
    }
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HelperConfigError(`${file} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HelperConfigError(`${file} must hold an object`);
  const config = parsed as Record<string, unknown>;
  const unknown = Object.keys(config).filter((key) => !KEYS.has(key));
  if (unknown.length > 0) throw new HelperConfigError(`${file} has unknown keys: ${unknown.join(', ')}`);
  if (config.systemd !== undefined && typeof config.systemd !== 'boolean') throw new HelperConfigError(`${file}: systemd must be true or false`);
  return {
    mountPointBase: absolutePath(config.mountPointBase, 'mountPointBase', file),
    ...(config.clientConfigFile === undefined ? {} : { clientConfigFile: absolutePath(config.clientConfigFile, 'clientConfigFile', file) }),
    systemd: config.systemd ?? lstatSync('/run/systemd/system', { throwIfNoEntry: false })?.isDirectory() === true,
  };
}
