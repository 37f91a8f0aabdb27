#!/usr/bin/env bash
# The benchmark: Rewind vs dexie-export-import vs raw IndexedDB in one headless
# Chromium page (bench/), on a deterministic dataset; prints a table of medians and ratios.
#   scripts/bench.sh           the full run (10k, 10k with Blobs, 100k, 300k records; ~15 min)
#   scripts/bench.sh --smoke   2,000 records, one repetition: checks that it runs and the
#                              numbers are sane ("bench: N passed; M failed"), for make test
# Extra arguments go to bench/run.mjs (--sizes 10000,50000 --reps 3 --out dir).
# Results: target/bench/report.md and results.json (smoke.md / smoke.json for --smoke).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh" --test
"$ROOT/scripts/pkg.sh"
export CHROME_BIN="${CHROME_BIN:-/usr/bin/chromium}"
# REWIND_ENGINE=firefox|webkit runs it in that engine over WebDriver (tests/shared/browsers.mjs).
log "bench $*"
node bench/run.mjs "$@"
