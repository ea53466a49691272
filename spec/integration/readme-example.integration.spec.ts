/**
 * The README's example, run exactly as written on a real host: the block is taken from
 * README.md and run by Node with nothing changed but where `'libvirt-volume-driver'` resolves
 * (this checkout's `lib/index.ts`), its real default runner and probe, and the stand-in
 * Quobyte client first on PATH. It runs in a private mount namespace with an empty tmpfs over
 * `/var/lib`, so `/var/lib/nova/mnt` and `/var/lib/my-agent` are missing, as on a fresh host,
 * and nothing the test does reaches the host's own `/var/lib` (or another test run's).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { EXAMPLE_BASE, EXAMPLE_MOUNT_NAME, EXAMPLE_STORE, PACKAGE_IMPORT, exampleBlock } from '../docs/readme-example-block.js';
import { RealHost, requireRealHost } from './support/real-host.js';
import { describeRootAgentOnly } from './support/agent-driver.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE_ROOT = pathToFileURL(join(ROOT, 'lib/index.ts')).href;

describeRootAgentOnly("the README's example is run as written: the library's defaults, as root, in a private mount namespace; the unprivileged deployment is docs/operations.md's, covered by unprivileged-agent", 'README.md example on a real host, as written', function () {
  this.timeout(90_000);
  let host: RealHost;

  before(function () {
    requireRealHost(this);
    if (spawnSync('unshare', ['--mount', 'true']).status !== 0) {
      if (process.env.CI === 'true') throw new Error('unshare --mount does not work here');
      console.warn('      skipping: unshare --mount does not work here');
      this.skip();
    }
  });

  beforeEach(() => {
    host = new RealHost();
  });

  afterEach(() => {
    host.cleanUp();
  });

  it('mounts, gives the <disk> XML, unmounts on disconnect, and creates the missing store folder with mode 0700', () => {
    const code = exampleBlock();
    expect(code).to.match(PACKAGE_IMPORT);
    // Appended, not changed: what the test reads back, printed as one JSON line.
    const report = [
      '',
      "const { statSync: __stat, existsSync: __exists } = await import('node:fs');",
      `const __store = __stat(${JSON.stringify(EXAMPLE_STORE.slice(0, EXAMPLE_STORE.lastIndexOf('/')))});`,
      `console.log('REPORT ' + JSON.stringify({ xml, reason, storeMode: __store.mode & 0o777, storeIsDirectory: __store.isDirectory(), mountLeft: __exists(${JSON.stringify(`${EXAMPLE_BASE}/${EXAMPLE_MOUNT_NAME}`)}) }));`,
    ].join('\n');
    const script = join(host.root, 'readme-example.mts');
    writeFileSync(script, code.replace("from 'libvirt-volume-driver';", `from ${JSON.stringify(PACKAGE_ROOT)};`) + report);
    const result = spawnSync(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o mode=0755 tmpfs /var/lib && exec "$@"', 'sh', process.execPath, '--import', 'tsx', script],
      { cwd: ROOT, env: { ...process.env, ...host.env }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status, `${result.stderr}\n${result.stdout}`).to.equal(0);
    const line = result.stdout.split('\n').find((text) => text.startsWith('REPORT ')) ?? 'REPORT {}';
    const { xml, reason, storeMode, storeIsDirectory, mountLeft } = JSON.parse(line.slice('REPORT '.length)) as Record<string, unknown>;
    const mountPath = `${EXAMPLE_BASE}/${EXAMPLE_MOUNT_NAME}`;
    expect(host.invocations().map((argv) => argv.slice(1))).to.deep.equal([['--disable-xattrs', 'registry:7861/vols', mountPath]]);
    expect(xml).to.be.a('string').and.to.contain('<disk type="file" device="disk">').and.to.contain(`<source file="${mountPath}/volume-1"/>`).and.to.contain('<target dev="vdb" bus="virtio"/>');
    expect(reason).to.equal('unmounted');
    expect({ storeMode, storeIsDirectory, mountLeft }).to.deep.equal({ storeMode: 0o700, storeIsDirectory: true, mountLeft: false });
  });
});
