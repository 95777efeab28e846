#!/usr/bin/env bash
# Quick-start demo on the embedded default: an OCI image layout on disk, no server needed.
# Builds a small image, generates a key pair, signs, verifies, then shows a tampered image and a wrong key failing.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s%N)
if [ ! -d node_modules ]; then npm install --no-audit --no-fund --loglevel=error; fi
if [ ! -f dist/cli/main.js ] || [ -n "$(find src -newer dist/cli/main.js -name '*.ts' -print -quit)" ]; then
  npm run --silent build >/dev/null
fi
root=$PWD
cs() { node "$root/dist/cli/main.js" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export COSIGN_PASSWORD=demo-password

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. build a small OCI image in a layout on disk ($work/image)"
node "$root/scripts/demo-image.mjs" "$work/image" v1 "hello from countersign"

step "2. generate a key pair (cosign.key encrypted with COSIGN_PASSWORD, cosign.pub)"
cs generate-key-pair
ls -l cosign.key cosign.pub

step "3. sign the image"
cs sign --key cosign.key --tlog-upload=false -a env=demo oci:image:v1

step "4. verify it"
cs verify --key cosign.pub --insecure-ignore-tlog -a env=demo oci:image:v1

step "5. tamper: replace the image behind tag v1, then verify again (expect exit 10: no signatures)"
node "$root/scripts/demo-image.mjs" "$work/image" v1 "tampered content"
set +e
cs verify --key cosign.pub --insecure-ignore-tlog oci:image:v1
code=$?
set -e
echo "exit code: $code"
[ "$code" -eq 10 ] || { echo "expected exit 10"; exit 1; }

step "6. verify the signed digest with someone else's key (expect exit 12: no matching signatures)"
cs generate-key-pair --output-key-prefix other >/dev/null 2>&1
# The first image is still in the layout by digest.
set +e
cs verify --key other.pub --insecure-ignore-tlog "oci:image@$(cat image/.demo-first-digest)"
code=$?
set -e
echo "exit code: $code"
[ "$code" -eq 12 ] || { echo "expected exit 12"; exit 1; }

end=$(date +%s%N)
printf '\n\033[1mdemo OK\033[0m in %d ms\n' $(((end - start) / 1000000))
