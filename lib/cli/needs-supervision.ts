/**
 * Which invocations of `libvirt-volume` run under the supervising child process of
 * `supervise.ts`, and which run in the process the shell started.
 *
 * @module
 */

/**
 * First arguments after which the CLI touches nothing on the host: `config` (pure computation:
 * the XML of a volume), help and the version. Only these skip the supervising child, which
 * costs a second Node start-up; everything else (`status`, `connect`, `disconnect`, a typo that
 * commander will refuse) keeps it. Only the first argument counts: `connect --name --help` gives
 * `--help` as the value of `--name` and would then touch the host.
 */
const HOST_FREE_FIRST_ARGUMENTS: ReadonlySet<string> = new Set(['config', 'help', '--help', '-h', '--version', '-V']);

/**
 * Whether `argv` (the arguments after the program name) may make the CLI look at a mount, and
 * so meet a hung one that would keep the process from ever exiting: then it must run in a
 * supervised child. No arguments prints the usage error and touches nothing.
 */
export function needsSupervision(argv: readonly string[]): boolean {
  const first = argv[0];
  return first !== undefined && !HOST_FREE_FIRST_ARGUMENTS.has(first);
}
