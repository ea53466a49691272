/**
 * `status --format prometheus`: the node_exporter textfile collector's format (the Prometheus
 * text exposition format, version 0.0.4), so a cron job or timer can write it to
 * `/var/lib/prometheus/node-exporter/<name>.prom` and alerts can fire on it.
 *
 * @module
 */
import type { VolumeHealth, VolumeStatus } from './list-volume-status.js';
import { printable } from './printable.js';

const HEALTHS: readonly VolumeHealth[] = ['healthy', 'stale', 'unresponsive', 'foreign', 'absent', 'unknown'];

/** A label value: made printable first (no control or bidi character), then escaped as the format wants. */
function labelValue(text: string): string {
  return printable(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function labels(pairs: Readonly<Record<string, string>>): string {
  return `{${Object.entries(pairs).map(([name, value]) => `${name}="${labelValue(value)}"`).join(',')}}`;
}

function family(name: string, help: string, samples: ReadonlyArray<readonly [Readonly<Record<string, string>>, number]>): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples.map(([pairs, value]) => `${name}${labels(pairs)} ${value}`)];
}

/**
 * Formats the rows of one base as gauges:
 * - `libvirt_volume_mount_health{base,mount_path,export,health}` 1 for each mount path (its
 *   health in the label; `export` empty when nothing is mounted);
 * - `libvirt_volume_mount_attachments{base,mount_path}`: attachments recorded per mount path;
 * - `libvirt_volume_mounts{base,health}`: mount paths per health, every health listed (0 too);
 * - `libvirt_volume_orphaned_mounts{base}`: own mounts no attachment needs;
 * - `libvirt_volume_degraded{base}`: 1 when `status` would exit `EXIT_DEGRADED`, else 0.
 * Ends with a newline.
 */
export function formatStatusPrometheus(rows: readonly VolumeStatus[], base: string): string {
  const orphaned = rows.filter((row) => row.problems.includes('orphaned')).length;
  const degraded = rows.some((row) => row.problems.length > 0) ? 1 : 0;
  const lines = [
    ...family(
      'libvirt_volume_mount_health',
      'Mount paths under the base; 1 per mount path, its health in the health label.',
      rows.map((row) => [{ base, mount_path: row.mountPath, export: row.export ?? '', health: row.health }, 1] as const),
    ),
    ...family(
      'libvirt_volume_mount_attachments',
      'Attachments recorded in the attachment store per mount path.',
      rows.map((row) => [{ base, mount_path: row.mountPath }, row.attachments.length] as const),
    ),
    ...family(
      'libvirt_volume_mounts',
      'Mount paths under the base per health.',
      HEALTHS.map((health) => [{ base, health }, rows.filter((row) => row.health === health).length] as const),
    ),
    ...family('libvirt_volume_orphaned_mounts', 'Own mounts under the base that no recorded attachment needs.', [[{ base }, orphaned]]),
    ...family('libvirt_volume_degraded', 'Whether libvirt-volume status finds any problem (its exit status 3).', [[{ base }, degraded]]),
  ];
  return `${lines.join('\n')}\n`;
}
