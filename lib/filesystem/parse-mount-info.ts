import type { MountEntry } from './file-system-probe.js';

/** The kernel escapes space, tab, newline and backslash in mountinfo as `\ooo` octal. */
const OCTAL_ESCAPE = /\\([0-7]{3})/g;

function unescapeField(field: string): string {
  return field.replace(OCTAL_ESCAPE, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * Parses `/proc/<pid>/mountinfo` (proc(5)): `id parent major:minor root mountpoint options
 * [optional fields...] - fstype source superoptions`. The optional fields vary in number, so the
 * ` - ` separator is searched for rather than counted. Malformed lines are skipped.
 *
 * @param text The whole file.
 * @returns One entry a line, in the kernel's order (a later entry for the same mount point is
 * mounted over an earlier one).
 */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0 || fields.length < separator + 3) continue;
    const [id, , device, , mountPoint, mountOptions] = fields;
    const fsType = fields[separator + 1];
    const source = fields[separator + 2];
    if (mountPoint === undefined || mountOptions === undefined || fsType === undefined || source === undefined) continue;
    if (id === undefined || !/^[0-9]+$/.test(id)) continue;
    const superOptions = fields[separator + 3] ?? '';
    entries.push({
      mountPoint: unescapeField(mountPoint),
      source: unescapeField(source),
      fsType: unescapeField(fsType),
      options: [...mountOptions.split(','), ...superOptions.split(',').filter((o) => o !== '')],
      mountId: Number(id),
      ...(device === undefined ? {} : { device }),
    });
  }
  return entries;
}
