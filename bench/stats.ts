/** Small statistics and the table `npm run bench` prints. */

/** The value below which `p` percent of the samples fall (nearest rank). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** How many times faster `ours` is than `nova` (∞ when ours is 0). */
export function ratio(nova: number, ours: number): number {
  return ours === 0 ? Number.POSITIVE_INFINITY : nova / ours;
}

export interface BenchRow {
  name: string;
  unit: string;
  ours: number;
  nova: number;
  oursP99?: number;
  novaP99?: number;
  target: string;
  met: boolean;
  /**
   * The ratio cell when the goal is not a ratio to Nova (to the same row at 0 attachments, to
   * `node -e 0`), e.g. `1.21× at 0`; the default is Nova ÷ ours. Rows with no Nova figure set
   * `nova` to NaN.
   */
  ratioText?: string;
}

function format(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (value === 0) return '0';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** A Markdown table: one row a measurement, with the ratio Nova ÷ ours (or the row's own ratio). */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['measurement', 'ours median', 'ours p99', 'Nova median', 'Nova p99', 'ratio', 'target', 'met'];
  const lines = rows.map((row) => {
    const unit = row.unit === '' ? '' : ` ${row.unit}`;
    const times = ratio(row.nova, row.ours);
    return [
      row.name,
      `${format(row.ours)}${unit}`,
      row.oursP99 === undefined ? '-' : `${format(row.oursP99)}${unit}`,
      Number.isNaN(row.nova) ? '-' : `${format(row.nova)}${unit}`,
      row.novaP99 === undefined ? '-' : `${format(row.novaP99)}${unit}`,
      row.ratioText ?? (Number.isNaN(times) ? '-' : Number.isFinite(times) ? `${format(times)}×` : '∞'),
      row.target === '' ? '-' : row.target,
      row.target === '' ? '-' : row.met ? 'yes' : 'NO',
    ];
  });
  const all = [header, ...lines];
  const widths = header.map((_, column) => Math.max(...all.map((line) => (line[column] ?? '').length)));
  const render = (line: string[]): string => `| ${line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [render(header), `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`, ...lines.map(render)].join('\n');
}
