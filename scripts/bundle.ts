// The package's JavaScript: one ES module per entry point (the library, `libvirt-volume`,
// `libvirt-volume-helper`) plus shared chunks, bundled by esbuild from lib/. A consumer's
// `import` then reads a few files instead of resolving some hundred modules, which is most of
// what starting the library or the CLI costs (see docs/performance.md). Declarations come from
// `tsc --emitDeclarationOnly` (tsconfig.build.json); dynamic `import()`s stay lazy as chunks.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

const outdir = 'dist';
await rm(`${outdir}/chunks`, { recursive: true, force: true });
await build({
  entryPoints: ['lib/index.ts', 'lib/cli/main.ts', 'lib/helper/main.ts'],
  outbase: 'lib',
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
