#!/usr/bin/env bash
# `npm run demo` (extra arguments are passed on; `--dry-run` forces the dry run).
#
# Works on a fresh clone with nothing else done: installs the npm dependencies when they are
# missing and, as root on a Debian-like host, the stand-in client's system packages (fuse3,
# python3-fusepy), then runs scripts/demo.ts with tsx. The demo itself falls back to a dry run,
# saying why, where it cannot mount.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# npm's own progress stays on the terminal: a silent install looks like a hang.
bash scripts/ensure-dependencies.sh demo

# The stand-in client runs Debian's /usr/bin/python3 with fusepy (see spec/integration/fixtures/README.md).
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null && [ -e /dev/fuse ] && [[ " $* " != *' --dry-run '* ]] \
  && ! /usr/bin/python3 -c 'import fusepy' >/dev/null 2>&1; then
  echo "demo: installing fuse3 and python3-fusepy with apt-get (running as root)"
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { apt-get install -y -q --no-install-recommends fuse3 python3-fusepy >/dev/null 2>&1; }
  apt_install || { apt-get update -q >/dev/null 2>&1 && apt_install; } || echo "demo: apt-get could not install them"
fi

exec node_modules/.bin/tsx scripts/demo.ts "$@"
