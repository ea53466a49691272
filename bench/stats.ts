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
}

function format(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (value === 0) return '0';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** A Markdown table: one row a measurement, with the ratio Nova ÷ ours. */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['measurement', 'ours median', 'ours p99', 'Nova median', 'Nova p99', 'Nova ÷ ours', 'target', 'met'];
  const lines = rows.map((row) => {
    const unit = row.unit === '' ? '' : ` ${row.unit}`;
    const times = ratio(row.nova, row.ours);
    return [
      row.name,
      `${format(row.ours)}${unit}`,
      row.oursP99 === undefined ? '-' : `${format(row.oursP99)}${unit}`,
      `${format(row.nova)}${unit}`,
      row.novaP99 === undefined ? '-' : `${format(row.novaP99)}${unit}`,
      Number.isFinite(times) ? `${format(times)}×` : '∞',
      row.target === '' ? '-' : row.target,
      row.target === '' ? '-' : row.met ? 'yes' : 'NO',
    ];
  });
  const all = [header, ...lines];
  const widths = header.map((_, column) => Math.max(...all.map((line) => (line[column] ?? '').length)));
  const render = (line: string[]): string => `| ${line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [render(header), `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`, ...lines.map(render)].join('\n');
}
