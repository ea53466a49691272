import type { Command, CommandResult, CommandRunner, RunOptions } from '../../../lib/commands/command-runner.js';

/** Records every command the driver runs, then runs it for real. */
export class RecordingRunner implements CommandRunner {
  readonly commands: Command[] = [];
  constructor(readonly inner: CommandRunner) {}
  async run(command: Command, options?: RunOptions): Promise<CommandResult> {
    this.commands.push(command);
    return this.inner.run(command, options);
  }
  /** Each command as one line, `file arg ...`. */
  get argv(): string[] {
    return this.commands.map((command) => [command.file, ...command.args].join(' '));
  }
}
