#!/usr/bin/env bash
# Gate: the npm tarball ships what it should and nothing else, and its types resolve.
#
#   1. scripts/pack.sh builds (prepack) and packs from a scratch copy of the tree;
#   2. the tarball's file list is checked against the allowlist: package.json, README.md,
#      CHANGELOG.md, LICENSE, the guides docs/*.md and dist/**/*.js|*.d.ts, each dist file built
#      from a lib/ source (no spec, test, bench, docs/api, source maps or stale build output),
#      plus the bundle's shared chunks dist/chunks/*.js;
#   3. publint (--strict: warnings fail too) lints the tarball's package.json against its files;
#   4. attw checks that TypeScript resolves the types of every entry point the way ESM
#      consumers resolve them (profile esm-only: the package has no CommonJS entry, on purpose).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
start=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/lvd-package-gate-XXXXXX")
trap 'rm -rf "$work"' EXIT

tarball=$(bash scripts/pack.sh "$work" | tail -1)
echo "packed $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"

mapfile -t files < <(tar -tzf "$tarball" | sed 's#^package/##' | grep -v '/$' | sort)
problems=()

for file in "${files[@]}"; do
  case "$file" in
    package.json | README.md | CHANGELOG.md | LICENSE) ;;
    # The guides, so the README's links work from the registry page and offline (not docs/api/).
    docs/*/*) problems+=("$file: only docs/*.md ships") ;;
    docs/*.md) ;;
    # Code shared by the bundled entry points (scripts/bundle.mjs): esbuild names them by hash.
    dist/chunks/*.js) ;;
    dist/*.d.ts | dist/*.js)
      # Built output only: every file must come from a source in lib/.
      source="lib/${file#dist/}"
      source="${source%.d.ts}"
      source="${source%.js}.ts"
      [ -f "$source" ] || problems+=("$file: no source $source (stale build output?)")
      case "$file" in
        */spec/* | */test/* | */tests/* | */bench/* | */fixtures/* | *.spec.* | *.test.*) problems+=("$file: test or bench code in the package") ;;
      esac
      ;;
    *) problems+=("$file: not in the allowlist") ;;
  esac
done

for required in package.json README.md CHANGELOG.md LICENSE docs/operations.md docs/writing-a-driver.md dist/index.js dist/index.d.ts dist/cli/main.js dist/helper/main.js; do
  printf '%s\n' "${files[@]}" | grep -qxF "$required" || problems+=("$required: missing")
done

# The bin must be directly executable once npm links it.
if [ "$(tar -xzOf "$tarball" package/dist/cli/main.js | head -c 19)" != '#!/usr/bin/env node' ]; then
  problems+=('dist/cli/main.js: does not start with #!/usr/bin/env node')
fi

if [ "${#problems[@]}" -gt 0 ]; then
  echo "tarball contents are wrong:"
  printf '  %s\n' "${problems[@]}"
  exit 1
fi
echo "file list ok: ${#files[@]} files (package.json, README.md, CHANGELOG.md, LICENSE, docs/*.md, dist/**/*.js|d.ts)"

npx --no-install publint run "$tarball" --strict
npx --no-install attw "$tarball" --profile esm-only --format table-flipped --no-emoji --no-color

echo "package gate passed in $((SECONDS - start)) s"
