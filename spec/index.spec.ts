import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { childEnv } from './support/child-env.js';

const run = promisify(execFile);
const INDEX = fileURLToPath(new URL('../lib/index.ts', import.meta.url));

/** In a fresh process: imports the package, runs `steps`, and lists the CommonJS packages loaded. */
async function loadedPackages(steps: string): Promise<string[]> {
  const script = [
    "import { createRequire } from 'node:module';",
    `const lib = await import(${JSON.stringify(INDEX)});`,
    steps,
    'const names = Object.keys(createRequire(import.meta.url).cache).map((path) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(path)?.[1]);',
    'process.stdout.write(JSON.stringify([...new Set(names.filter(Boolean))]));',
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: childEnv({ DEBUG: '' }) });
  return JSON.parse(stdout) as string[];
}

describe('importing the package', () => {
  // The driver file still imports debug itself (until it uses createDebugLog), and the store loads
  // its lock library; those are checked where they change.
  it('does not load xmlbuilder2, even with a driver made', async () => {
    const loaded = await loadedPackages("new lib.QuobyteVolumeDriver({ mountPointBase: '/b' });");
    expect(loaded).not.to.include('xmlbuilder2');
  });

  it('writes the XML at formatDiskXml without loading any package (its writer is built in)', async () => {
    const loaded = await loadedPackages([
      "const xml = lib.formatDiskXml({ sourceType: 'file', sourceDevice: 'disk', driverName: 'qemu', driverFormat: 'raw', sourcePath: '/b/x/v', targetDev: 'vdb', targetBus: 'virtio', readOnly: false, shareable: false });",
      "if (!xml.startsWith('<disk type=\"file\" device=\"disk\">')) throw new Error(xml);",
    ].join('\n'));
    expect(loaded).not.to.include('xmlbuilder2');
    expect(loaded.filter((name) => !['tsx', 'esbuild', 'debug', 'ms'].includes(name))).to.deep.equal([]);
  });
});
