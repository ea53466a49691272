#!/usr/bin/env bash
# Smoke check of the benchmark beside Nova: it must run end to end and write its results, with
# every row (quick versions of the durable-store, event-loop and start-up rows included).
# Speed is not asserted here (CI machines vary); `npm run bench` reports the full figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -f bench/results.quick.json
npm run --silent bench -- --quick
node -e "
const r = require('./bench/results.quick.json');
const names = Array.isArray(r.rows) ? r.rows.map((row) => row.name) : [];
const wanted = [/^warm connect, memory store$/, /^FileAttachmentStore: same guest again$/, /^FileAttachmentStore: a new guest on a warm share, \d+ recorded$/,
  /^largest event-loop stall, \d+ mount points$/, /^whole-process import/, /^CLI: config$/, /^CLI: --help$/, /^CLI: status, \d+ mounts$/];
const missing = wanted.filter((pattern) => !names.some((name) => pattern.test(name)));
const broken = r.rows.filter((row) => typeof row.ours !== 'number' || !Number.isFinite(row.ours));
if (names.length < 17 || missing.length > 0 || broken.length > 0) {
  console.error('bench gate: rows missing or without a figure:', missing.map(String), broken.map((row) => row.name));
  process.exit(1);
}"
