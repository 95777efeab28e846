#!/usr/bin/env bash
# The long form of the registry fault-injection soak (issue 14): 120 sign/verify cycles and 20 concurrent signers
# through a proxy faulting 20% of requests in front of a real docker-registry, with no test timeout. Sizes and the
# seed come from the environment (COUNTERSIGN_SOAK_CYCLES, _SIGNERS, _ROUNDS, _SEED); the counts are printed and
# appended to .tmp/soak-report.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

export COUNTERSIGN_SOAK_CYCLES="${COUNTERSIGN_SOAK_CYCLES:-120}"
export COUNTERSIGN_SOAK_SIGNERS="${COUNTERSIGN_SOAK_SIGNERS:-20}"
export COUNTERSIGN_SOAK_ROUNDS="${COUNTERSIGN_SOAK_ROUNDS:-3}"
export COUNTERSIGN_SOAK_TEST_TIMEOUT_MS=0
if [ -z "${COUNTERSIGN_SOAK_SEED:-}" ]; then
  COUNTERSIGN_SOAK_SEED="$(node -e 'console.log(require("crypto").randomInt(2 ** 32))')"
fi
export COUNTERSIGN_SOAK_SEED
echo "== registry soak: ${COUNTERSIGN_SOAK_CYCLES} cycles, ${COUNTERSIGN_SOAK_SIGNERS} signers × ${COUNTERSIGN_SOAK_ROUNDS} rounds, seed ${COUNTERSIGN_SOAK_SEED}"

mkdir -p .tmp
status=0
start=$(date +%s)
npx vitest run test/soak/registry-soak.integration.test.ts --testTimeout=0 --hookTimeout=120000 || status=$?
echo "== soak finished in $(($(date +%s) - start)) s (vitest exit ${status})"

echo "== report (last record of .tmp/soak-report.jsonl)"
npx tsx --eval '
  import { readFileSync } from "node:fs"
  import { formatReport } from "./test/soak/report.ts"
  const lines = readFileSync(".tmp/soak-report.jsonl", "utf8").trim().split("\n")
  console.log(formatReport(JSON.parse(lines[lines.length - 1])))
' || tail -n 1 .tmp/soak-report.jsonl
exit "$status"
