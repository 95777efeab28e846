#!/usr/bin/env bash
# Checks the packed tarball as a user would get it: publint, are-the-types-wrong, and the exports map vs dist.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d dist ] || npm run --silent build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarball="$tmp/$(npm pack --silent --pack-destination "$tmp" | tail -n 1)"
npx publint --strict "$tarball"
# Every entry point except ./node must resolve everywhere ESM does (node16 ESM and bundlers).
npx attw "$tarball" --profile esm-only --exclude-entrypoints node node/signature-backend
# ./node and ./node/signature-backend load only under the "node" condition on purpose (a browser bundle must fail
# loudly); their top-level "types" lets TypeScript's bundler resolution see the declarations. Node's ESM resolution
# must be free of problems.
# Read attw's JSON rather than its exit code: only the node16 ESM column matters for these entries.
npx attw "$tarball" --profile esm-only --format json --entrypoints node node/signature-backend >"$tmp/attw-node.json" || true
node -e '
  const { analysis } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const bad = analysis.problems.filter((p) => p.resolutionKind === "node16-esm");
  if (bad.length) { console.error("countersign/node:", bad); process.exit(1) }
  console.log("countersign/node resolves with types under node16 ESM");
' "$tmp/attw-node.json"
node scripts/check-exports.mjs
node scripts/api-surface.mjs
