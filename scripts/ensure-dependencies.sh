#!/usr/bin/env bash
# Usage: scripts/ensure-dependencies.sh <who>
#
# Runs `npm ci` when the npm dependencies are missing (a fresh clone), saying so first and
# leaving npm's own progress on the terminal, so a first `npm test` or `npm run demo` neither
# fails with "mocha: not found" nor sits silent for half a minute. Does nothing when they are
# there. `npm test` runs it as `pretest`, before mocha is needed; scripts/demo.sh runs it too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
who=${1:-npm}

if [ -x node_modules/.bin/mocha ] && [ -x node_modules/.bin/tsx ]; then
  exit 0
fi
echo "${who}: node_modules is missing or incomplete; running npm ci first (one time, about 30 s)" >&2
if ! npm ci --no-audit --no-fund; then
  echo "${who}: npm ci failed; fix the error above, then run it again" >&2
  exit 1
fi
echo "${who}: dependencies installed" >&2
