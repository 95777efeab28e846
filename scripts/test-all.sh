#!/usr/bin/env bash
# The full test suite: installs what the tests need (Debian packages, npm packages), then lint, typecheck,
# build, unit + integration tests (real docker-registry, skopeo, openssl) and package checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The completion scripts are parsed by the shells they are for.
command -v zsh >/dev/null 2>&1 || need+=(zsh)
command -v fish >/dev/null 2>&1 || need+=(fish)
if [ "${#need[@]}" -gt 0 ]; then
  echo "== installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "${CI:-}" = "true" ] || [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm install (from package-lock.json)"
  # Not `npm ci`: npm 11 writes lock files without other platforms' optional packages (biome, rollup) and
  # then `npm ci` refuses them as out of sync. `npm install` honours the locked versions all the same.
  npm install --no-audit --no-fund --loglevel=error
fi

echo "== lint (biome)"
npx biome check src test scripts examples bench
echo "== docs (TSDoc on every public export)"
node scripts/check-docs.mjs
echo "== API reference (docs/api up to date)"
node scripts/api-docs.mjs --check
echo "== typecheck"
npm run --silent typecheck
echo "== build"
npm run --silent build
echo "== tests (vitest)"
mkdir -p .tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(".tmp/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
[ "$status" -eq 0 ] || exit "$status"
echo "== package checks (publint, attw, exports)"
bash scripts/pack-check.sh
