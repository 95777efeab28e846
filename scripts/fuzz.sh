#!/usr/bin/env bash
# Long fuzz profile (issue 14): every target of test/fuzz with COUNTERSIGN_FUZZ_RUNS inputs (default 100000), then a
# table of what each target saw, from .tmp/fuzz-report.jsonl. Extra arguments go to vitest, e.g. a file or
# `-t public-key` to run one target:  COUNTERSIGN_FUZZ_RUNS=20000 bash scripts/fuzz.sh test/fuzz/keys.test.ts
# Replay a failure with the COUNTERSIGN_FUZZ_SEED / COUNTERSIGN_FUZZ_PATH it printed.
set -euo pipefail
cd "$(dirname "$0")/.."

export COUNTERSIGN_FUZZ_RUNS="${COUNTERSIGN_FUZZ_RUNS:-100000}"
report=.tmp/fuzz-report.jsonl
mkdir -p .tmp
: >"$report"

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(test/fuzz)

status=0
# No per-test timeout: a target runs as long as its inputs take (a hang shows as no progress, not a timeout).
npx vitest run "${targets[@]}" --testTimeout=0 --hookTimeout=0 || status=$?

node --input-type=module -e '
import { readFileSync } from "node:fs"
const rows = readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
const top = (codes) => Object.entries(codes).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([c, n]) => `${c.replace(/^ERR_/, "")} ${n}`).join(", ")
const table = [["target", "runs", "accepted", "rejected", "top codes", "max ms", "seconds", "ok"]]
for (const r of rows)
  table.push([r.target, r.runs, r.returned, r.runs - r.returned, top(r.rejected) || "-", r.maxMs.toFixed(1), r.seconds.toFixed(0), r.passed ? "yes" : "FAILED"])
const widths = table[0].map((_, i) => Math.max(...table.map((row) => String(row[i]).length)))
for (const row of table) console.log(row.map((c, i) => String(c).padEnd(widths[i])).join("  "))
if (rows.length === 0) console.log("no fuzz targets reported")
' "$report"
exit "$status"
