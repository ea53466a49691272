/**
 * The CLI's defaults and the environment variables that override them. Apart from
 * `cli-context.ts` so that `--help` and the option definitions load no driver.
 *
 * @module
 */

/** Nova's `[libvirt] quobyte_mount_point_base` default. */
export const DEFAULT_MOUNT_BASE = '/var/lib/nova/mnt';
/** Overrides {@link DEFAULT_MOUNT_BASE}; `--base` overrides it. */
export const MOUNT_BASE_ENV = 'LIBVIRT_VOLUME_MOUNT_BASE';
/** Overrides the default attachment store file; `--state` overrides it. */
export const STATE_ENV = 'LIBVIRT_VOLUME_STATE';
/** The attachment store's file name inside the base, unless `--state` or the environment says otherwise. */
export const DEFAULT_STATE_FILE_NAME = '.libvirt-volume-attachments.json';
