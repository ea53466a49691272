/**
 * The README's example, taken from README.md and run, so it can never drift from the code.
 * Here, on any machine, against the fake host: the driver gets the fake host's runner and probe
 * (the commands it ran are then checked), and the two host paths move under a temporary
 * folder where the store's folder does not exist yet, as on a fresh host (the store creates it,
 * mode 0700). On a real host, `spec/integration/readme-example.integration.spec.ts` runs the
 * block exactly as written, paths included, against the stand-in client.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as packageRoot from '../../lib/index.js';
import { FakeHost } from '../support/fake-host.js';
import { EXAMPLE_BASE, EXAMPLE_MOUNT_NAME, EXAMPLE_STORE, PACKAGE_IMPORT, README, exampleBlock } from './readme-example-block.js';

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
      const [, names = ''] = PACKAGE_IMPORT.exec(code) ?? [];
      const imported = names.split(',').map((name) => name.trim()).filter((name) => name !== '');
      expect(imported).to.have.length.of.at.least(1);
      for (const name of imported) expect(packageRoot, name).to.have.property(name);
    });

    it('runs as written: mounts, gives the <disk> XML, unmounts on disconnect, and creates the missing store folder (0700)', async () => {
      const code = exampleBlock();
      expect(code, 'the example still uses the paths this test moves').to.contain(`'${EXAMPLE_BASE}'`).and.to.contain(`'${EXAMPLE_STORE}'`);
      const host = new FakeHost();
      const testBase = join(dir, EXAMPLE_BASE);
      host.directories.add(testBase);
      // The same path under the temporary folder: none of its folders exists yet.
      const storeFile = join(dir, EXAMPLE_STORE);
      const body = code
        .replace(PACKAGE_IMPORT, 'const {$1} = __package;')
        .replace('new QuobyteVolumeDriver({', 'new QuobyteVolumeDriver({ runner: __host.runner, probe: __host.probe, systemd: false,')
        .replaceAll(`'${EXAMPLE_BASE}'`, JSON.stringify(testBase))
        .replaceAll(`'${EXAMPLE_STORE}'`, JSON.stringify(storeFile));
      const run = new AsyncFunction('__package', '__host', `${body}\nreturn { xml, reason };`);
      const { xml, reason } = (await run(packageRoot, host)) as { xml: string; reason: string };

      const mountPath = `${testBase}/${EXAMPLE_MOUNT_NAME}`;
      expect(host.argv).to.deep.equal([`mount.quobyte --disable-xattrs registry:7861/vols ${mountPath}`, `umount --no-canonicalize ${mountPath}`]);
      expect(xml).to.contain('<disk type="file" device="disk">').and.to.contain(`<source file="${mountPath}/volume-1"/>`).and.to.contain('<target dev="vdb" bus="virtio"/>');
      expect(reason).to.equal('unmounted');
      const folder = statSync(join(dir, EXAMPLE_STORE, '..'));
      expect({ isDirectory: folder.isDirectory(), mode: folder.mode & 0o777 }).to.deep.equal({ isDirectory: true, mode: 0o700 });
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
      ['reconcile, run at start after restoreAttachments', /restoreAttachments\(list\);[^]*driver\.reconcile\(\)[^]*libvirt-volume reconcile/],
      ['repair --force and what it costs the guests', /repair --force[^]*lose their disk[^]*ENOTCONN/],
    ] as const) {
      it(`mentions ${topic}`, () => {
        expect(README).to.match(pattern);
      });
    }
  });
});
