/**
 * Which invocations of `libvirt-volume` run under the supervising child process of
 * `supervise.ts`, and which run in the process the shell started.
 *
 * @module
 */

/**
 * First arguments after which the CLI makes no call that can block on a mount in its own
 * process: `config` (pure computation: the XML of a volume), help and the version, which touch
 * nothing on the host, and `status`, which looks at mounts only through the probe's killable
 * children (`NodeFileSystemProbe`, contained by default) and reads the mount table, `/proc` and
 * the attachment store (local files) itself, so a hung mount costs it one probe timeout and
 * leaves no thread of it blocked. Only these skip the supervising child, which costs a second
 * Node start-up; `connect` and `disconnect` (which create and remove the mount directory in
 * process) and a typo that commander will refuse keep it. Only the first argument counts:
 * `connect --name --help` gives `--help` as the value of `--name` and would then touch the host.
 */
const UNSUPERVISED_FIRST_ARGUMENTS: ReadonlySet<string> = new Set(['config', 'help', '--help', '-h', '--version', '-V', 'status']);

/**
 * Whether `argv` (the arguments after the program name) may make the CLI call into a mount in
 * its own process, and so meet a hung one that would keep the process from ever exiting: then
 * it must run in a supervised child. No arguments prints the usage error and touches nothing.
 */
export function needsSupervision(argv: readonly string[]): boolean {
  const first = argv[0];
  return first !== undefined && !UNSUPERVISED_FIRST_ARGUMENTS.has(first);
}
