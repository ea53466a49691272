#!/usr/bin/env bash
# Gate: a new ESM TypeScript project can install the packed tarball, type-check against it
# (strict, nodenext), run it, and run its `libvirt-volume` bin. See scripts/consumer-test.sh.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../../scripts/consumer-test.sh"
