import type { Command } from 'commander';
import type { RunCliOptions } from '../cli-context.js';
import { addAttachOptions, openAttachInvocation } from './connect.js';

/**
 * `disconnect`: drops the attachment and unmounts the export when no attachment is left on it.
 * Prints the outcome: `unmounted`, `in-use`, `not-mounted` or `busy`, and the mount path.
 */
export function registerDisconnectCommand(program: Command, deps: RunCliOptions): void {
  const command = program.command('disconnect').description('drop an attachment and unmount the export when it was the last');
  addAttachOptions(command);
  command.action(async () => {
    const { options, driver, probe, store, ci, instance } = await openAttachInvocation(command, deps);
    if (options.dryRun === true) {
      const { formatPlan, planDisconnect } = await import('../dry-run-plan.js');
      deps.stdout.write(formatPlan(await planDisconnect({ driver, probe, store }, ci, instance)));
      return;
    }
    const { mountPath } = driver.resolveVolume(ci);
    const result = await driver.disconnectVolume(ci, instance);
    deps.stdout.write(`${result.reason} ${mountPath}\n`);
  });
}
