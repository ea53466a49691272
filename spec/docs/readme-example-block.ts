/** The README's example, as the README holds it (shared by the unit and real-mount runs). */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';

export const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The import line of the example: the names it takes from the package root. */
export const PACKAGE_IMPORT = /^import \{([^}]*)\} from 'libvirt-volume-driver';$/m;

/** The first ```ts block under `## Example`. */
export function exampleBlock(): string {
  const start = README.indexOf('\n## Example\n');
  expect(start, 'README has an Example section').to.be.greaterThan(-1);
  const match = /```ts\n([\s\S]*?)\n```/.exec(README.slice(start));
  expect(match, 'the Example section has a ts block').to.not.equal(null);
  return match?.[1] ?? '';
}

/** The host paths the example names. */
export const EXAMPLE_BASE = '/var/lib/nova/mnt';
export const EXAMPLE_STORE = '/var/lib/my-agent/attachments.json';
/** `<base>/<md5 of registry:7861/vols>`. */
export const EXAMPLE_MOUNT_NAME = '4056b8d4041404a144ec3ef373d406dd';
