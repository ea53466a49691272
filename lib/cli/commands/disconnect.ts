import type { Command } from 'commander';
import type { RunCliOptions } from '../cli-context.js';
import { formatPlanOrThrow } from '../../plans/format-plan.js';
import { CliExit, EXIT_BUSY } from '../cli-exit.js';
import { addAttachOptions, openAttachInvocation } from './connect.js';

/**
 * `disconnect`: drops the attachment and unmounts the export when no attachment is left on it.
 * Prints the outcome: `unmounted`, `in-use`, `not-mounted` or `busy`, and the mount path.
 * Exit status 0, or {@link EXIT_BUSY} when the share was busy and stays mounted.
 */
export function registerDisconnectCommand(program: Command, deps: RunCliOptions): void {
  const command = program.command('disconnect').description('drop an attachment and unmount the export when it was the last');
  addAttachOptions(command);
  command.addHelpText('after', `\nExit status: 0 done (unmounted, in-use, not-mounted); 1 failed; 2 usage error;\n${EXIT_BUSY} busy: the attachment was dropped but the share is busy and stays mounted.`);
  command.action(async () => {
    const { options, driver, ci, instance } = await openAttachInvocation(command, deps);
    if (options.dryRun === true) {
      deps.stdout.write(formatPlanOrThrow((await driver.planDisconnect(ci, instance)).steps));
      return;
    }
    const { mountPath } = driver.resolveVolume(ci);
    const result = await driver.disconnectVolume(ci, instance);
    deps.stdout.write(`${result.reason} ${mountPath}\n`);
    // The attachment is gone but the share stays mounted: a script must not take that for done.
    if (result.reason === 'busy') throw new CliExit(EXIT_BUSY);
  });
}
