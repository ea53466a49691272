#!/usr/bin/env bash
# Smoke check of the benchmark beside Nova: it must run end to end and write its results.
# Speed is not asserted here (CI machines vary); `npm run bench` reports the full figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -f bench/results.quick.json
npm run --silent bench -- --quick
node -e "const r = require('./bench/results.quick.json'); if (!Array.isArray(r.rows) || r.rows.length < 8) process.exit(1);"
