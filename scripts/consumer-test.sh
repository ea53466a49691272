#!/usr/bin/env bash
# Usage: scripts/consumer-test.sh
#
# Uses the package the way a downstream project does: packs it (scripts/pack.sh), installs the
# tarball into a new ESM project in a temporary directory, type-checks a consumer written in
# strict TypeScript with `moduleResolution: nodenext` against the shipped declarations (with
# skipLibCheck off, so the .d.ts files themselves are checked), runs the compiled JavaScript,
# and runs the installed `libvirt-volume` bin. The library's dependencies come from the npm
# registry (or npm's cache). Leaves nothing behind.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
start=$SECONDS
# npm's noise (a stray user config warning, funding notes) would bury the result.
quiet_npm() { npm "$@" --no-audit --no-fund --loglevel=error 2> >(grep -v 'Unknown user config' >&2); }
quiet_npx() { npx --no-install "$@" 2> >(grep -v 'Unknown user config' >&2); }

work=$(mktemp -d "${TMPDIR:-/tmp}/lvd-consumer-XXXXXX")
trap 'rm -rf "$work"' EXIT

tarball=$(bash "$repo/scripts/pack.sh" "$work" | tail -1)
version=$(node -p 'require(process.argv[1]).version' "$repo/package.json")
echo "packed $(basename "$tarball")"

app="$work/app"
mkdir "$app"
cd "$app"
quiet_npm init -y >/dev/null
quiet_npm pkg set type=module
quiet_npm install --prefer-offline "$tarball" >/dev/null
echo "installed the tarball into a new \"type\": \"module\" project"

# The consumer's settings are strict on purpose; @types/node comes from the repository, as a
# real consumer would have its own.
cat >tsconfig.json <<EOF
{
  "compilerOptions": {
    "target": "es2022",
    "lib": ["es2023"],
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "strict": true,
    "exactOptionalPropertyTypes": true,
    "noUncheckedIndexedAccess": true,
    "verbatimModuleSyntax": true,
    "skipLibCheck": false,
    "typeRoots": ["$repo/node_modules/@types"],
    "types": ["node"],
    "outDir": "out"
  },
  "files": ["consumer.ts"]
}
EOF

cat >consumer.ts <<'EOF'
import assert from 'node:assert/strict';
import {
  QuobyteVolumeDriver,
  formatDiskXml,
  InvalidConnectionInfoError,
  isVolumeDriverError,
  parseMountInfo,
  type ConnectionInfo,
  type DiskInfo,
  type VolumeDriverErrorCode,
} from 'libvirt-volume-driver';

const driver = new QuobyteVolumeDriver({ mountPointBase: '/var/lib/nova/mnt', systemd: false });
const ci: ConnectionInfo = {
  driver_volume_type: 'quobyte',
  serial: '3f1b2d3c-1111-2222-3333-444455556666',
  data: { export: 'quobyte://192.168.1.1/volume-00001', name: 'volume-00000001', format: 'raw' },
};

const xml = formatDiskXml(driver.getConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }));
assert.ok(xml.includes('<disk type="file"'), xml);
// Nova's mount directory for this export: hosts can switch without remounting.
assert.ok(xml.includes('/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001'), xml);

assert.throws(
  () => driver.getConfig({ data: { export: '-o evil/x', name: 'v' } }, { bus: 'virtio', dev: 'vdb', type: 'disk' }),
  (error: unknown) => error instanceof InvalidConnectionInfoError && error.code === 'ERR_INVALID_CONNECTION_INFO',
);

const [entry] = parseMountInfo(
  '36 35 0:52 / /mnt/a\\040b rw,relatime shared:1 - fuse.quobyte quobyte@reg:7861/vol rw,user_id=0\n',
);
assert.equal(entry?.mountPoint, '/mnt/a b');
assert.equal(entry?.fsType, 'fuse.quobyte');

// The declarations carry the contract: a connection info without an export does not compile.
// @ts-expect-error data.export is required
const incomplete: ConnectionInfo = { data: { name: 'volume-1' } };
void incomplete;

// A misspelt bus does not compile either.
// @ts-expect-error 'virtoi' is not a DiskBus
const typo: DiskInfo = { bus: 'virtoi', dev: 'vdb', type: 'disk' };
void typo;

// err.code narrows: a switch over every code type-checks as exhaustive (a new code in a later
// release turns the `never` line into a compile error, which is the point).
function outcome(error: unknown): string {
  if (!isVolumeDriverError(error)) return 'not ours';
  const code: VolumeDriverErrorCode = error.code;
  switch (code) {
    case 'ERR_INVALID_CONNECTION_INFO':
    case 'ERR_INSECURE_MOUNT_BASE':
      return 'refused';
    case 'ERR_INVALID_VOLUME':
    case 'ERR_STALE_VOLUME_MOUNT':
    case 'ERR_VOLUME_UNRESPONSIVE':
    case 'ERR_UNSAFE_IMAGE':
      return 'volume';
    case 'ERR_VOLUME_MOUNT':
    case 'ERR_VOLUME_UNMOUNT':
      return 'mount';
    case 'ERR_COMMAND_FAILED':
    case 'ERR_COMMAND_TIMEOUT':
    case 'ERR_COMMAND_NOT_FOUND':
      return 'command';
    case 'ERR_ATTACHMENT_STORE':
    case 'ERR_MOUNT_LOCK':
      return 'store';
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}
try {
  driver.getConfig({ data: { export: '-o evil/x', name: 'v' } }, { bus: 'virtio', dev: 'vdb', type: 'disk' });
} catch (error) {
  assert.equal(outcome(error), 'refused');
}
assert.equal(outcome(new Error('x')), 'not ours');

console.log('consumer ok');
EOF

node "$repo/node_modules/typescript/bin/tsc" -p tsconfig.json
echo "type-checked consumer.ts (strict, nodenext, skipLibCheck off)"
node out/consumer.js

bin_version=$(quiet_npx libvirt-volume --version)
[ "$bin_version" = "$version" ] || { echo "npx libvirt-volume --version printed '$bin_version', expected '$version'" >&2; exit 1; }
echo "npx libvirt-volume --version: $bin_version"
config_xml=$(quiet_npx libvirt-volume config --export registry:7861/vol --name volume-1)
[[ "$config_xml" == *'<disk type="file"'* ]] || { echo "npx libvirt-volume config printed no <disk type=\"file\">" >&2; exit 1; }
echo "npx libvirt-volume config: prints the <disk> XML"

echo "consumer test passed in $((SECONDS - start)) s"
