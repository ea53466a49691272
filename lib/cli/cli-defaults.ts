/**
 * The CLI's defaults and the environment variables that override them. Apart from
 * `cli-context.ts` so that `--help` and the option definitions load no driver.
 *
 * @module
 */
import { join } from 'node:path';

/** Nova's `[libvirt] quobyte_mount_point_base` default. */
export const DEFAULT_MOUNT_BASE = '/var/lib/nova/mnt';
/** Overrides {@link DEFAULT_MOUNT_BASE}; `--base` overrides it. */
export const MOUNT_BASE_ENV = 'LIBVIRT_VOLUME_MOUNT_BASE';
/** Overrides the default attachment store file; `--state` overrides it. */
export const STATE_ENV = 'LIBVIRT_VOLUME_STATE';
/** The attachment store's file name inside the base, unless `--state` or the environment says otherwise. */
export const DEFAULT_STATE_FILE_NAME = '.libvirt-volume-attachments.json';

/** The environment the CLI reads its defaults from. */
type Environment = Readonly<Record<string, string | undefined>> | undefined;

/** An unset or empty variable counts as absent. */
function fromEnv(env: Environment, name: string): string | undefined {
  const value = env?.[name];
  return value === undefined || value === '' ? undefined : value;
}

/** `--base`, else `LIBVIRT_VOLUME_MOUNT_BASE`, else Nova's `/var/lib/nova/mnt`. */
export function resolveMountBase(options: { base?: string | undefined }, env: Environment): string {
  return options.base ?? fromEnv(env, MOUNT_BASE_ENV) ?? DEFAULT_MOUNT_BASE;
}

/** `--state`, else `LIBVIRT_VOLUME_STATE`, else `<base>/.libvirt-volume-attachments.json`. */
export function resolveStatePath(options: { state?: string | undefined }, env: Environment, base: string): string {
  return options.state ?? fromEnv(env, STATE_ENV) ?? join(base, DEFAULT_STATE_FILE_NAME);
}

