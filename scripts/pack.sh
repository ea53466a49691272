#!/usr/bin/env bash
# Usage: scripts/pack.sh <output directory>
#
# Packs the library exactly as `npm publish` would, from a fresh build, and prints the
# tarball's absolute path as the last line of stdout (everything else goes to stderr).
#
# The pack runs in a scratch copy of the working tree (without node_modules, dist, coverage
# and .git; node_modules is linked in), so
#   - what ships is built by the package's own `prepack` from the current sources, and a stale
#     file left in dist/ by an old build cannot sneak into the tarball;
#   - the working tree's dist/ is neither rebuilt nor emptied under someone else's feet.
# Every other file is copied, so a too-wide `files` entry in package.json still shows up.
set -euo pipefail

out=${1:?usage: scripts/pack.sh <output directory>}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

stage=$(mktemp -d "${TMPDIR:-/tmp}/lvd-pack-XXXXXX")
trap 'rm -rf "$stage"' EXIT

tar -C "$repo" \
  --exclude=./node_modules --exclude=./dist --exclude=./coverage --exclude=./.git --exclude='./*.tgz' \
  -cf - . | tar -C "$stage" -xf -
ln -s "$repo/node_modules" "$stage/node_modules"

# `npm pack --json` prints the JSON on stdout and the prepack build's output on stderr.
(cd "$stage" && npm pack --json --pack-destination "$out" 2>"$stage/.pack.log" >"$stage/.pack.json") || {
  grep -v 'Unknown user config' "$stage/.pack.log" >&2 || true
  echo "pack: npm pack failed" >&2
  exit 1
}
filename=$(node -e 'const [p] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(p.filename)' "$stage/.pack.json")
tarball="$out/$filename"
[ -f "$tarball" ] || { echo "pack: npm pack reported $filename but $tarball is missing" >&2; exit 1; }
echo "$tarball"
