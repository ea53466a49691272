import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'libvirt-volume-driver';

/**
 * The package's version from its `package.json`, found by walking up from this module: it sits
 * in `lib/cli/` when run through tsx and in `dist/` or `dist/chunks/` when bundled, so no one
 * relative path serves every layout. Only this package's own manifest counts.
 */
export function readPackageVersion(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth += 1) {
    try {
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === PACKAGE_NAME) return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
    } catch {
      // no manifest here: look one folder up
    }
    folder = dirname(folder);
  }
  return '0.0.0';
}
