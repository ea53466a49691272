#!/usr/bin/env bash
# The API reference builds from lib/index.ts with warnings as errors (typedoc.json).
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent docs
test -s docs/api/index.html
