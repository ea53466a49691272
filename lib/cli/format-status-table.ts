/**
 * `status` as a table for people: one row per mount path, columns aligned, no trailing blanks.
 *
 * @module
 */
import type { VolumeStatus } from './list-volume-status.js';
import { printable } from './printable.js';

const HEADERS = ['MOUNT PATH', 'EXPORT', 'HEALTH', 'ATTACHMENTS'] as const;
const GAP = '  ';

function healthCell(row: VolumeStatus): string {
  const health = row.reason === undefined || row.health === 'unresponsive' ? row.health : `${row.health} (${printable(row.reason)})`;
  return row.problems.includes('orphaned') ? `${health}, orphaned` : health;
}

/**
 * Formats rows under the headers `MOUNT PATH`, `EXPORT`, `HEALTH`, `ATTACHMENTS`. A stale
 * mount shows its reason (`stale (not-connected)`), an own mount nobody uses `, orphaned`;
 * several attachments are separated by commas; a missing value is `-`. Text from the host is
 * escaped ({@link printable}). Ends with a newline.
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
