/**
 * The README's example, taken from README.md and run, so it can never drift from the code. It
 * runs as written except for what a test must not touch: the two host paths point into a
 * temporary folder, and the driver gets the fake host's runner and probe (the commands it ran
 * are then checked). The real-mount suites run the same calls against the stand-in client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import * as packageRoot from '../../lib/index.js';
import { FakeHost } from '../support/fake-host.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The first ```ts block under `## Example`. */
function exampleBlock(): string {
  const start = README.indexOf('\n## Example\n');
  expect(start, 'README has an Example section').to.be.greaterThan(-1);
  const match = /```ts\n([\s\S]*?)\n```/.exec(README.slice(start));
  expect(match, 'the Example section has a ts block').to.not.equal(null);
  return match?.[1] ?? '';
}

type AsyncFunctionConstructor = new (...args: string[]) => (...values: unknown[]) => Promise<unknown>;
async function anAsyncFunction(): Promise<void> {
  await Promise.resolve();
}
const AsyncFunction = (Object.getPrototypeOf(anAsyncFunction) as { constructor: AsyncFunctionConstructor }).constructor;

describe('README.md', () => {
  describe('the example', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'readme-example-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('imports only what the package root exports', () => {
      const code = exampleBlock();
      const [, names = ''] = /^import \{([^}]*)\} from 'libvirt-volume-driver';$/m.exec(code) ?? [];
      const imported = names.split(',').map((name) => name.trim()).filter((name) => name !== '');
      expect(imported).to.have.length.of.at.least(1);
      for (const name of imported) expect(packageRoot, name).to.have.property(name);
    });

    it('runs as written: mounts, gives the <disk> XML, and unmounts on disconnect', async () => {
      const code = exampleBlock();
      const base = '/var/lib/nova/mnt';
      const storeFile = '/var/lib/my-agent/attachments.json';
      expect(code, 'the example still uses the paths this test redirects').to.contain(`'${base}'`).and.to.contain(`'${storeFile}'`);
      const host = new FakeHost();
      const testBase = join(dir, 'mnt');
      host.directories.add(testBase);
      const body = code
        .replace(/^import \{([^}]*)\} from 'libvirt-volume-driver';$/m, 'const {$1} = __package;')
        .replace('new QuobyteVolumeDriver({', 'new QuobyteVolumeDriver({ runner: __host.runner, probe: __host.probe, systemd: false,')
        .replaceAll(`'${base}'`, JSON.stringify(testBase))
        .replaceAll(`'${storeFile}'`, JSON.stringify(join(dir, 'attachments.json')));
      const run = new AsyncFunction('__package', '__host', `${body}\nreturn { xml, reason };`);
      const { xml, reason } = (await run(packageRoot, host)) as { xml: string; reason: string };

      const mountPath = `${testBase}/4056b8d4041404a144ec3ef373d406dd`;
      expect(host.argv).to.deep.equal([`mount.quobyte --disable-xattrs registry:7861/vols ${mountPath}`, `umount ${mountPath}`]);
      expect(xml).to.contain('<disk type="file" device="disk">').and.to.contain(`<source file="${mountPath}/volume-1"/>`).and.to.contain('<target dev="vdb" bus="virtio"/>');
      expect(reason).to.equal('unmounted');
    });
  });

  describe('what it tells a new user', () => {
    for (const [topic, pattern] of [
      ['cancelling with an AbortSignal', /AbortSignal/],
      ['the diagnostics_channel events', /diagnostics_channel/],
      ['the stand-in Quobyte client and where it is', /stand-in[^]*spec\/integration\/fixtures\/bin\/mount\.quobyte/],
      ['the exit statuses of status and disconnect', /`status` exits `0`[^]*`3`[^]*`4`[^]*`5`/],
      ['that npm test installs what it needs', /`npm test` runs? `npm ci`/],
      ['isVolumeDriverError', /isVolumeDriverError/],
    ] as const) {
      it(`mentions ${topic}`, () => {
        expect(README).to.match(pattern);
      });
    }
  });
});
