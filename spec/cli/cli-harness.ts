/**
 * Runs the CLI in-process on a {@link FakeHost}: output collected, the host's probe and runner
 * injected, and a temporary directory for the attachment store.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { runCli, type CliOutput, type RunCliOptions } from '../../lib/cli/run-cli.js';
import sinon from 'sinon';
import { FakeHost } from '../support/fake-host.js';

/** Collects what is written. */
export class Collector implements CliOutput {
  text = '';
  write(text: string): boolean {
    this.text += text;
    return true;
  }
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with collectors for its streams. */
export async function runCaptured(argv: readonly string[], deps: Omit<RunCliOptions, 'stdout' | 'stderr'> = {}): Promise<CliResult> {
  const stdout = new Collector();
  const stderr = new Collector();
  const exitCode = await runCli(argv, { env: {}, ...deps, stdout, stderr });
  return { exitCode, stdout: stdout.text, stderr: stderr.text };
}

/** Dependencies that put the CLI on the fake host; systemd off unless asked. */
export function onHost(host: FakeHost, options: { systemd?: boolean; env?: Record<string, string> } = {}): Omit<RunCliOptions, 'stdout' | 'stderr'> {
  return {
    env: options.env ?? {},
    probe: host.probe,
    runner: host.runner,
    createDriver: (driverOptions) => new QuobyteVolumeDriver({ ...driverOptions, systemd: options.systemd ?? false }),
  };
}

/** A fresh temporary directory; remove it with {@link removeTemporaryDirectory}. */
export function makeTemporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'libvirt-volume-cli-'));
}

export function removeTemporaryDirectory(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** What each CLI test starts from: a fresh FakeHost and a scratch directory for the store. */
export interface CliFixture {
  host: FakeHost;
  dir: string;
  /** `<dir>/state.json`, the attachment store the test passes with `--state`. */
  state: string;
}

/**
 * Registers the per-test set-up and tear-down of a {@link CliFixture} in the calling `describe`;
 * the returned object is filled anew before each test.
 */
export function useCliFixture(): CliFixture {
  const fixture: CliFixture = { host: new FakeHost(), dir: '', state: '' };
  beforeEach(() => {
    fixture.host = new FakeHost();
    fixture.dir = makeTemporaryDirectory();
    fixture.state = `${fixture.dir}/state.json`;
    // `status` refuses a base or a state folder that does not exist; these do on the fake host.
    fixture.host.directories.add(BASE);
    fixture.host.directories.add(fixture.dir);
  });
  afterEach(() => {
    sinon.restore();
    removeTemporaryDirectory(fixture.dir);
  });
  return fixture;
}

/**
 * The attachment store at `path`, read straight from its folder (`<path>.d/<mount>/<id>`, names
 * URI-encoded): mount path → sorted attachment ids.
 */
export function readStore(path: string): Record<string, string[]> {
  const folder = `${path}.d`;
  const mounts = readdirSync(folder).filter((name) => !name.startsWith('.'));
  const table = mounts.map((name) => [decodeURIComponent(name), readdirSync(join(folder, name)).map((id) => decodeURIComponent(id)).sort()] as const);
  return Object.fromEntries(table.filter(([, ids]) => ids.length > 0));
}

/**
 * Every entry of the store's folder but its lock files, with its mtime, to show that a dry run
 * wrote nothing; `undefined` when there is no store yet.
 */
export function snapshotStore(path: string): string[] | undefined {
  const folder = `${path}.d`;
  if (!existsSync(folder)) return undefined;
  const entries = readdirSync(folder, { recursive: true }).map(String).filter((name) => !name.startsWith('.locks'));
  return [folder, ...entries.map((name) => join(folder, name))].map((entry) => `${entry} ${statSync(entry).mtimeMs}`).sort();
}

/** `<base>/<md5 of the export>`, computed independently of the driver. */
export function mountPathOf(base: string, normalisedExport: string): string {
  return `${base}/${createHash('md5').update(normalisedExport).digest('hex')}`;
}

// Nova's test_quobyte.py fixtures.
export const BASE = '/mnt';
export const EXPORT = 'quobyte://192.168.1.1/volume-00001';
export const NORMALISED = '192.168.1.1/volume-00001';
export const MOUNT_PATH = '/mnt/c94ed34ada0acf45c1213beb1fc52ce6';
export const NAME = 'volume-00000001';
export const INSTANCE = '0cb3ba7a-2b09-4b0a-9f55-3b4b7c1f2e11';
export const OTHER_INSTANCE = '5d1f7e21-90a4-4a57-b3f8-4c7b7a9d3c02';

/** `connect`/`disconnect` arguments for the fixture volume. */
export function attachArgs(command: 'connect' | 'disconnect', state: string, instance = INSTANCE): string[] {
  return [command, '--export', EXPORT, '--name', NAME, '--instance', instance, '--base', BASE, '--state', state];
}
