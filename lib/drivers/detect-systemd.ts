import type { CommandRunner } from '../commands/command-runner.js';
import { createDebugLog } from '../debug-log.js';
import type { FileSystemProbe } from '../filesystem/file-system-probe.js';

const debug = createDebugLog('libvirt-volume-driver:systemd');

/** Where systemd marks a booted system (sd_booted(3)). */
export const SYSTEMD_RUNTIME_PATH = '/run/systemd/system';
/** `systemctl is-system-running` states in which `systemd-run --scope` works. */
const USABLE_STATES: ReadonlySet<string> = new Set(['starting', 'running', 'degraded']);

/**
 * Whether systemd manages this host, as Nova decides it: PID 1 is named `systemd` or
 * `/run/systemd/system` exists, and then `systemctl is-system-running` (exit 0 or 1) prints
 * `starting`, `running` or `degraded`. A missing or failing `systemctl` (containers with the
 * runtime directory bind-mounted) means no, where Nova raised.
 */
export async function detectSystemd(runner: CommandRunner, probe: FileSystemProbe, timeoutMs: number): Promise<boolean> {
  const init = await probe.readInitProcessName();
  if (init !== 'systemd' && !(await probe.pathExists(SYSTEMD_RUNTIME_PATH))) {
    debug('No systemd detected (PID 1 is %s).', init ?? 'unknown');
    return false;
  }
  try {
    const { stdout } = await runner.run({ file: 'systemctl', args: ['is-system-running'] }, { okExitCodes: [0, 1], timeoutMs });
    const state = stdout.trim();
    debug('systemctl is-system-running: %s', state);
    return USABLE_STATES.has(state);
  } catch (error) {
    debug('systemctl failed, treating the host as not systemd: %O', error);
    return false;
  }
}
