import type { Command } from 'commander';
import type { RunCliOptions } from '../cli-context.js';
import { formatPlanOrThrow } from '../../plans/format-plan.js';
import { addAttachOptions, openAttachInvocation } from './connect.js';

/**
 * `disconnect`: drops the attachment and unmounts the export when no attachment is left on it.
 * Prints the outcome: `unmounted`, `in-use`, `not-mounted` or `busy`, and the mount path.
 */
export function registerDisconnectCommand(program: Command, deps: RunCliOptions): void {
  const command = program.command('disconnect').description('drop an attachment and unmount the export when it was the last');
  addAttachOptions(command);
  command.action(async () => {
    const { options, driver, ci, instance } = openAttachInvocation(command, deps);
    if (options.dryRun === true) {
      deps.stdout.write(formatPlanOrThrow((await driver.planDisconnect(ci, instance)).steps));
      return;
    }
    const { mountPath } = driver.resolveVolume(ci);
    const result = await driver.disconnectVolume(ci, instance);
    deps.stdout.write(`${result.reason} ${mountPath}\n`);
  });
}
