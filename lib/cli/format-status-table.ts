/**
 * `status` as a table for people: one row per mount path, columns aligned, no trailing blanks.
 *
 * @module
 */
import type { VolumeStatus } from './list-volume-status.js';

const HEADERS = ['MOUNT PATH', 'EXPORT', 'HEALTH', 'ATTACHMENTS'] as const;
const GAP = '  ';

/** Control characters (a mount path may hold a newline) written as mountinfo writes them: `\012`. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\${char.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

function healthCell(row: VolumeStatus): string {
  return row.reason === undefined || row.health === 'unresponsive' ? row.health : `${row.health} (${row.reason})`;
}

/**
 * Formats rows under the headers `MOUNT PATH`, `EXPORT`, `HEALTH`, `ATTACHMENTS`. A stale
 * mount shows its reason (`stale (not-connected)`); several attachments are separated by
 * commas; a missing value is `-`. Ends with a newline.
 */
export function formatStatusTable(rows: readonly VolumeStatus[]): string {
  const cells = [
    [...HEADERS],
    ...rows.map((row) => [
      printable(row.mountPath),
      printable(row.export ?? '-'),
      healthCell(row),
      row.attachments.length === 0 ? '-' : row.attachments.map(printable).join(','),
    ]),
  ];
  const widths = HEADERS.map((_, column) => Math.max(...cells.map((line) => line[column]?.length ?? 0)));
  return cells
    .map((line) => line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join(GAP).trimEnd())
    .map((line) => `${line}\n`)
    .join('');
}
