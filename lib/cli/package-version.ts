import { createRequire } from 'node:module';

/**
 * The package's version from its `package.json`. This file sits two levels below the package
 * root both as `lib/cli/` (run through tsx) and as `dist/cli/` (compiled), so one relative path
 * serves both; `require` of JSON needs no import attributes and no `resolveJsonModule`.
 */
export function readPackageVersion(): string {
  const require = createRequire(import.meta.url);
  const manifest = require('../../package.json') as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}
