#!/usr/bin/env bash
# Gate: `npm run demo` works and cleans up after itself.
#
# Type-checks scripts/ (the root tsconfig does not cover it), runs the demo, and requires exit
# status 0, the disk XML, and a mount reported `healthy` (so in CI, which has root and FUSE, the
# real flow must run, not the dry run). Then checks that nothing is left behind: no mount, no
# stand-in client process and no scratch directory of the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
start=$SECONDS
scratch_dirs() { find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'lvd-demo-*' 2>/dev/null | sort; }

node node_modules/typescript/bin/tsc -p scripts/tsconfig.json

before=$(scratch_dirs)
output=$(mktemp)
trap 'rm -f "$output"' EXIT
status=0
npm run --silent demo 2> >(grep -v 'Unknown user config' >&2) | tee "$output" || status=$?

problems=()
[ "$status" -eq 0 ] || problems+=("npm run demo exited $status")
grep -qF '<disk type="file"' "$output" || problems+=('no <disk type="file"> XML in the output')
grep -qE 'demo-volumes +healthy +[0-9a-f-]+/0001' "$output" || problems+=('status never showed the mount healthy with its attachment (did it fall back to the dry run?)')
if grep -q 'lvd-demo-' /proc/self/mountinfo; then
  problems+=("mounts left behind: $(grep -o ' [^ ]*lvd-demo-[^ ]*' /proc/self/mountinfo | head -3 | tr '\n' ' ')")
fi
if leftover=$(pgrep -af 'mount\.quobyte.*lvd-demo-'); then
  problems+=("client processes left behind: ${leftover//$'\n'/; }")
fi
after=$(scratch_dirs)
if [ "$after" != "$before" ] && [ -n "$(comm -13 <(echo "$before") <(echo "$after"))" ]; then
  problems+=("scratch directories left behind: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')")
fi

if [ "${#problems[@]}" -gt 0 ]; then
  printf 'demo gate: %s\n' "${problems[@]}"
  exit 1
fi
echo "demo gate passed in $((SECONDS - start)) s (no mounts, processes or scratch directories left)"
