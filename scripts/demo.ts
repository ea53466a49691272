/**
 * `npm run demo`: attaches a volume end to end on this host, against the stand-in Quobyte client
 * (`spec/integration/fixtures/bin/mount.quobyte`, a real FUSE file system), with the library's
 * real command runner and file-system probe. Connect, write and read through the device file,
 * the disk XML (checked by libvirt when virsh is installed), `libvirt-volume status`, a crashed
 * client repaired by the next connect, disconnect.
 *
 * Mounting needs root, /dev/fuse, CAP_SYS_ADMIN and python3-fusepy. Without them (or with
 * `--dry-run`) the demo says why in one line and shows the same flow through the CLI's
 * `connect --dry-run`, `config`, `status` and `disconnect --dry-run`, which change nothing.
 *
 * Everything lives in one scratch directory (`$TMPDIR/lvd-demo-*`); mounts, client daemons and
 * the directory are removed at the end, also after a failure or Ctrl-C.
 *
 * Run through scripts/demo.sh, which installs what is missing first.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatCommand } from '../lib/plans/format-plan.js';
import { runCli } from '../lib/cli/run-cli.js';
import {
  ExecaCommandRunner,
  FileAttachmentStore,
  QuobyteVolumeDriver,
  formatDiskXml,
  parseMountInfo,
  type Command,
  type CommandResult,
  type CommandRunner,
  type ConnectionInfo,
  type DiskInfo,
  type InstanceRef,
  type RunOptions,
} from '../lib/index.js';

const FIXTURE_BIN = fileURLToPath(new URL('../spec/integration/fixtures/bin', import.meta.url));
const EXPORT = 'quobyte://registry.demo:7861/demo-volumes';
const VOLUME_NAME = 'volume-0001';
const GUEST_A: InstanceRef = { uuid: '6f1c6e1e-4c2c-4b4e-9d3e-0d6d1f1e2a3b' };
const GUEST_B: InstanceRef = { uuid: 'b2d4f6a8-1c3e-4a5b-8d7f-9e0a1b2c3d4e' };
const CONNECTION_INFO: ConnectionInfo = {
  driver_volume_type: 'quobyte',
  serial: '0001',
  data: { export: EXPORT, name: VOLUME_NAME, volume_id: '0001', format: 'raw' },
};
const DISK: DiskInfo = { bus: 'virtio', dev: 'vdb', type: 'disk' };
const MESSAGE = 'hello from guest A';
const MESSAGE_OFFSET = 4096;
const IMAGE_SIZE = 64 * 1024 * 1024;
/** The signals that end the demo early; it cleans up first. */
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
/** CAP_SYS_ADMIN, which mount(2) needs (bit 21 of CapEff in /proc/self/status). */
const CAP_SYS_ADMIN = 21n;

// ---------------------------------------------------------------------------------------------
// Output

function heading(text: string): void {
  console.log(`\n== ${text} ==`);
}

function say(text: string): void {
  for (const line of text.replace(/\n$/, '').split('\n')) console.log(`  ${line}`);
}

/** A stream for runCli that collects what it writes. */
function collector(): { write(text: string): boolean; text(): string } {
  let buffer = '';
  return {
    write(text: string) {
      buffer += text;
      return true;
    },
    text: () => buffer,
  };
}

/** Runs the `libvirt-volume` CLI in this process and prints the command line and its output. */
async function cli(argv: readonly string[], runner?: CommandRunner, expectedStatus = 0): Promise<string> {
  const stdout = collector();
  const stderr = collector();
  say(`$ ${formatCommand({ file: 'libvirt-volume', args: argv })}`);
  const status = await runCli(argv, { stdout, stderr, env: {}, ...(runner === undefined ? {} : { runner }) });
  say(stdout.text() + stderr.text());
  if (status !== expectedStatus) throw new Error(`libvirt-volume ${argv[0] ?? ''} exited ${status}, expected ${expectedStatus}`);
  if (status !== 0) say(`  (exit status ${status}: what a health check sees)`);
  return stdout.text();
}

// ---------------------------------------------------------------------------------------------
// The host

/** Why this host cannot mount the stand-in for real, or `undefined` when it can. */
function whyNoRealMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    closeSync(openSync('/dev/fuse', constants.O_RDWR));
  } catch (error) {
    return `/dev/fuse is not usable (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (capEff !== undefined && ((BigInt(`0x${capEff}`) >> CAP_SYS_ADMIN) & 1n) === 0n) return 'no CAP_SYS_ADMIN, so mount(2) is not allowed here';
  if (spawnSync('/usr/bin/python3', ['-c', 'import fusepy'], { stdio: 'ignore' }).status !== 0) {
    return 'python3-fusepy is not installed (apt-get install fuse3 python3-fusepy)';
  }
  return undefined;
}

/** The raw /proc/self/mountinfo line of a mount point, if any. */
function mountInfoLine(mountPoint: string): string | undefined {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((line) => line.split(' ')[4] === mountPoint);
}

/** Checks the disk XML with libvirt's own parser and schema, when virsh is installed. */
function validateWithVirsh(scratch: string, diskXml: string): void {
  if (spawnSync('virsh', ['--version'], { stdio: 'ignore' }).status !== 0) {
    say('virsh is not installed: libvirt schema check skipped (apt-get install libvirt-clients)');
    return;
  }
  const file = join(scratch, 'domain.xml');
  const domain = ['<domain type="test">', '  <name>lvd-demo</name>', '  <memory unit="KiB">131072</memory>', '  <os><type arch="x86_64">hvm</type></os>', '  <devices>', diskXml, '  </devices>', '</domain>'];
  writeFileSync(file, `${domain.join('\n')}\n`);
  // test:///default is libvirt's in-memory test driver: nothing is defined on the host.
  const result = spawnSync('virsh', ['-c', 'test:///default', 'define', '--validate', file], { encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? '';
  if (result.status !== 0) throw new Error(`virsh define --validate refused the disk XML: ${output}`);
  say(`virsh -c test:///default define --validate: ok (${output})`);
}

/** Remembers every command it runs, so the demo can show what the driver did. */
class RecordingRunner implements CommandRunner {
  readonly #inner: CommandRunner;
  readonly #ran: Command[] = [];

  constructor(inner: CommandRunner) {
    this.#inner = inner;
  }

  run(command: Command, options?: RunOptions): Promise<CommandResult> {
    this.#ran.push(command);
    return this.#inner.run(command, options);
  }

  /** Prints the commands run since the last call, or that there were none. */
  report(): void {
    const ran = this.#ran.splice(0);
    if (ran.length === 0) say('ran: no command');
    for (const command of ran) say(`ran: ${formatCommand(command)}`);
  }
}

/** The scratch area and everything the demo starts in it; cleaned up synchronously. */
class Scratch {
  readonly root = mkdtempSync(join(tmpdir(), 'lvd-demo-'));
  readonly mountBase = join(this.root, 'mnt');
  readonly backing = join(this.root, 'backing');
  readonly state = join(this.root, 'client-state');
  readonly attachments = join(this.root, 'attachments.json');
  /** Client daemons seen, including one that was killed (its pid file is then overwritten). */
  readonly #daemons = new Set<number>();

  constructor() {
    for (const dir of [this.mountBase, this.backing, this.state]) mkdirSync(dir, { recursive: true });
  }

  /** PID of the stand-in daemon serving a mount point. */
  daemonPid(mountPoint: string): number {
    const pid = Number(readFileSync(join(this.state, `${basename(mountPoint)}.pid`), 'utf8').trim());
    this.#daemons.add(pid);
    return pid;
  }

  /** Unmounts what is mounted below the root, kills the stand-in daemons, removes the root. */
  cleanUp(): void {
    if (!existsSync(this.root)) return;
    for (const file of existsSync(this.state) ? readdirSync(this.state) : []) {
      if (file.endsWith('.pid')) this.#daemons.add(Number(readFileSync(join(this.state, file), 'utf8').trim()));
    }
    const mounts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((entry) => entry.mountPoint.startsWith(`${this.root}/`));
    // Lazy: a crashed or hung client's mount point cannot be looked up, and a plain umount would wait for it.
    for (const entry of mounts.reverse()) spawnSync('umount', ['-l', entry.mountPoint], { stdio: 'ignore' });
    for (const pid of this.#daemons) {
      // Only our own daemon: a pid can be reused once the process is gone.
      if (isAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('mount.quobyte')) process.kill(pid, 'SIGKILL');
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Whether a process runs (a zombie not yet reaped counts as gone). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The demo's own checks: a step that did not do what it shows fails the demo (and its CI gate). */
function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function readAt(path: string, offset: number, length: number): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, offset);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// The flows

async function realFlow(scratch: Scratch): Promise<void> {
  console.log('libvirt-volume-driver demo: a volume attached for real, against the stand-in Quobyte client');
  say(`client:     ${join(FIXTURE_BIN, 'mount.quobyte')} (a FUSE file system), first on PATH`);
  say(`mount base: ${scratch.mountBase}`);

  const runner = new RecordingRunner(
    new ExecaCommandRunner({
      env: {
        PATH: `${FIXTURE_BIN}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
        QUOBYTE_STANDIN_ROOT: scratch.backing,
        QUOBYTE_STANDIN_STATE: scratch.state,
        // No attribute cache: a crashed client shows at once instead of a second later.
        QUOBYTE_STANDIN_ATTR_TIMEOUT: '0',
      },
      timeoutMs: 20_000,
    }),
  );
  // systemd: false, so the short-lived stand-in is not put in a transient `systemd-run --scope` unit.
  const driver = new QuobyteVolumeDriver({
    mountPointBase: scratch.mountBase,
    runner,
    attachments: new FileAttachmentStore(scratch.attachments),
    systemd: false,
  });
  const { mountPath, devicePath } = driver.resolveVolume(CONNECTION_INFO);
  const status = ['status', '--base', scratch.mountBase, '--state', scratch.attachments];

  heading(`1. Connect ${EXPORT} for guest A`);
  await driver.connectVolume(CONNECTION_INFO, GUEST_A);
  runner.report();
  const line = mountInfoLine(mountPath);
  check(line !== undefined, `${mountPath} is in the mount table`);
  say(`mountinfo: ${line}`);

  heading('2. Write and read through the device file');
  // Cinder creates the image; here a sparse raw file of 64 MiB stands in for it.
  const fd = openSync(devicePath, 'w+');
  try {
    writeSync(fd, Buffer.alloc(1), 0, 1, IMAGE_SIZE - 1);
    writeSync(fd, MESSAGE, MESSAGE_OFFSET);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const readBack = readAt(devicePath, MESSAGE_OFFSET, MESSAGE.length);
  check(readBack === MESSAGE, 'the data reads back');
  say(`device: ${devicePath}`);
  say(`wrote ${JSON.stringify(MESSAGE)} at offset ${MESSAGE_OFFSET}; read back ${JSON.stringify(readBack)}`);

  heading('3. The disk XML for libvirt');
  const xml = formatDiskXml(driver.getConfig(CONNECTION_INFO, DISK));
  say(xml);
  validateWithVirsh(scratch.root, xml);

  heading('4. What an operator sees');
  check((await cli(status)).includes(' healthy '), 'status shows the mount healthy');

  heading('5. The client crashes (kill -9)');
  const crashed = scratch.daemonPid(mountPath);
  process.kill(crashed, 'SIGKILL');
  await waitFor(`client ${crashed} to die`, () => !isAlive(crashed));
  say(`killed the client daemon, pid ${crashed}`);
  // Exit status 3: something needs attention (docs/operations.md), so a health check can act.
  check((await cli(status, undefined, 3)).includes('stale (not-connected)'), 'status shows the crashed mount stale and exits 3');

  heading('6. The next connect (guest B) repairs the mount');
  await driver.connectVolume(CONNECTION_INFO, GUEST_B);
  runner.report();
  const health = await driver.inspectMount(mountPath, { fresh: true });
  const survived = readAt(devicePath, MESSAGE_OFFSET, MESSAGE.length);
  check(health.state === 'healthy' && survived === MESSAGE, 'the repaired mount is healthy and still holds the data');
  say(`mount: ${health.state}, client pid ${scratch.daemonPid(mountPath)}; attachments: ${(await driver.listAttachments()).get(mountPath)?.join(', ') ?? '-'}`);
  say(`data survived the crash: ${JSON.stringify(survived)}`);

  heading('7. Disconnect both guests');
  const client = scratch.daemonPid(mountPath);
  const first = await driver.disconnectVolume(CONNECTION_INFO, GUEST_A);
  say(`guest A: ${first.reason} (guest B still uses the mount)`);
  runner.report();
  const last = await driver.disconnectVolume(CONNECTION_INFO, GUEST_B);
  say(`guest B: ${last.reason}`);
  runner.report();
  await waitFor(`client ${client} to exit`, () => !isAlive(client));
  say(`mountinfo: ${mountInfoLine(mountPath) === undefined ? 'no entry' : 'STILL MOUNTED'}; directory ${existsSync(mountPath) ? 'still there' : 'removed'}; client ${isAlive(client) ? 'still running' : 'exited'}`);
  check(last.unmounted && mountInfoLine(mountPath) === undefined && !existsSync(mountPath), `${mountPath} is gone after the last disconnect`);
  await cli(status);
}

async function dryRunFlow(scratch: Scratch, why: string): Promise<void> {
  console.log(`libvirt-volume-driver demo, dry run: ${why}`);
  say('The CLI shows what it would do and changes nothing. Real mounts need root, /dev/fuse and python3-fusepy.');
  const volume = ['--export', EXPORT, '--name', VOLUME_NAME, '--volume-id', '0001'];
  const host = ['--base', scratch.mountBase, '--state', scratch.attachments];

  heading('1. Connect for guest A');
  await cli(['connect', '--dry-run', ...volume, '--instance', GUEST_A.uuid, ...host]);

  heading('2. The disk XML for libvirt');
  const xml = await cli(['config', ...volume, '--serial', '0001', '--base', scratch.mountBase]);
  validateWithVirsh(scratch.root, xml.trim());

  heading('3. What an operator sees');
  await cli(['status', ...host]);

  heading('4. Disconnect guest A');
  await cli(['disconnect', '--dry-run', ...volume, '--instance', GUEST_A.uuid, ...host]);
}

async function main(): Promise<number> {
  const started = Date.now();
  const forcedDryRun = process.argv.includes('--dry-run');
  const why = forcedDryRun ? 'asked for with --dry-run' : whyNoRealMount();
  const scratch = new Scratch();
  const onSignal = (signal: NodeJS.Signals): void => {
    scratch.cleanUp();
    console.error(`\ndemo: interrupted by ${signal}; cleaned up`);
    process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1));
  };
  for (const signal of Object.keys(SIGNAL_NUMBERS) as NodeJS.Signals[]) process.once(signal, onSignal);
  // Also when the process dies of an uncaught error (a closed stdout, say), which skips `finally`.
  process.once('exit', () => {
    scratch.cleanUp();
  });
  try {
    await (why === undefined ? realFlow(scratch) : dryRunFlow(scratch, why));
    return 0;
  } catch (error) {
    console.error(`\ndemo failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return 1;
  } finally {
    scratch.cleanUp();
    heading(`Cleaned up ${scratch.root} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

process.exitCode = await main();
