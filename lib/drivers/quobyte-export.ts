/**
 * What a Quobyte export may be, and where and how it is mounted: pure functions shared by
 * {@link QuobyteVolumeDriver} and the privileged `libvirt-volume-helper`, so both compute the
 * same mount path and argv and refuse the same input.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Command } from '../commands/command-runner.js';
import { InvalidConnectionInfoError } from '../errors.js';
import type { MountEntry } from '../filesystem/file-system-probe.js';
import { quoteInput } from '../text/quote-input.js';

/** `quobyte://` is stripped once, exactly as Nova and Cinder do. */
const PROTOCOL_PREFIX = 'quobyte://';
/** A registry host: a DNS name, an IPv4 address, or a bracketed IPv6 address. */
const HOST = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])`;
const REGISTRY = String.raw`${HOST}(?::[0-9]{1,5})?`;
/** A volume name: no `/`, whitespace or control characters, not `.` or `..`. */
const VOLUME = String.raw`(?!\.\.?$)[^/\s\u0000-\u001f\u007f]+`;
const EXPORT_SHAPE = new RegExp(String.raw`^${REGISTRY}(?:,${REGISTRY})*/${VOLUME}$`);
const PORT = /:([0-9]{1,5})(?=,|\/)/g;
/** A lone surrogate would be hashed as U+FFFD: two different exports, one mount path. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Longer than any mount source the kernel takes (one page). */
export const MAX_EXPORT_LENGTH = 4096;

/** Strips one leading `quobyte://`, case-sensitively; anything else is kept as it is. */
export function normalizeQuobyteExport(exportName: string): string {
  return exportName.startsWith(PROTOCOL_PREFIX) ? exportName.slice(PROTOCOL_PREFIX.length) : exportName;
}

/**
 * Refuses a normalised export that is not `host[:port][,host[:port]...]/volume`; so it never
 * starts with `-`, carries no options, holds no `/` but the one, and is well-formed Unicode.
 * @throws {@link InvalidConnectionInfoError} (`field: 'data.export'`)
 */
export function checkQuobyteExport(exportName: string): void {
  if (exportName.length > MAX_EXPORT_LENGTH) {
    throw new InvalidConnectionInfoError('data.export', `is longer than ${MAX_EXPORT_LENGTH} characters (${exportName.length})`);
  }
  if (LONE_SURROGATE.test(exportName)) {
    throw new InvalidConnectionInfoError('data.export', `is not well-formed Unicode (lone surrogate), got ${quoteInput(exportName)}`);
  }
  if (!EXPORT_SHAPE.test(exportName)) {
    throw new InvalidConnectionInfoError('data.export', `must look like host[:port][,host[:port]...]/volume, got ${quoteInput(exportName)}`);
  }
  for (const [, port] of exportName.matchAll(PORT)) {
    if (Number(port) < 1 || Number(port) > 65_535) {
      throw new InvalidConnectionInfoError('data.export', `has port ${port} out of range`);
    }
  }
}

/** The mount directory's name: the md5 hex of the normalised export, as Nova and Cinder name it. */
export function mountDirectoryName(exportName: string): string {
  return createHash('md5').update(exportName, 'utf8').digest('hex');
}

/**
 * `mount.quobyte --disable-xattrs <export> <mount path> [-c <cfg>]`: Nova's argv. Extended
 * attributes are off for speed (Nova bug 1659328).
 */
export function quobyteMountCommand(exportName: string, mountPath: string, clientConfigFile?: string): Command {
  const args = ['--disable-xattrs', exportName, mountPath];
  if (clientConfigFile !== undefined) args.push('-c', clientConfigFile);
  return { file: 'mount.quobyte', args };
}

/**
 * Quobyte 2.x and later report type `fuse.quobyte`; older clients a plain `fuse` mount whose
 * source starts `quobyte@`. Another FUSE file system (`fuse.sshfs` of a user named quobyte) does
 * not count, whatever its source says.
 */
export function isQuobyteMount(entry: MountEntry): boolean {
  return entry.fsType === 'fuse.quobyte' || (entry.fsType === 'fuse' && entry.source.startsWith('quobyte@'));
}
