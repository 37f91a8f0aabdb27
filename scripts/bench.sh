#!/usr/bin/env bash
# The benchmark: Rewind vs dexie-export-import vs raw IndexedDB in one browser page
# (bench/), on a deterministic dataset; prints a table of medians and ratios.
#   scripts/bench.sh           the full run (10k, 10k with Blobs, 100k, 300k records) in each
#                              engine: Chromium, Firefox ESR, WebKitGTK (~15 min per engine)
#   scripts/bench.sh --engines firefox,webkit   only those engines (default: REWIND_ENGINE if
#                              set, else all three for the full run, Chromium for --smoke)
#   scripts/bench.sh --smoke   2,000 records, one repetition: checks that it runs and the
#                              numbers are sane ("bench: N passed; M failed"), for make test
# The full run ends with the sweep over record and Blob sizes (bench/sweep.mjs, Chromium).
# Extra arguments go to bench/run.mjs (--sizes 10000,50000 --reps 3 --out dir).
# Results: target/bench/report.md and results.json (smoke.md / smoke.json for --smoke); with
# several engines, target/bench/<engine>/, and the ratios of each engine printed at the end.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh" --test
"$ROOT/scripts/pkg.sh"
export CHROME_BIN="${CHROME_BIN:-/usr/bin/chromium}"

engines="" smoke=0 out="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --engines) engines=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --smoke) smoke=1; args+=("$1"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -z "$engines" ]; then
  if [ -n "${REWIND_ENGINE:-}" ]; then engines=$REWIND_ENGINE
  elif [ "$smoke" = 1 ]; then engines=chromium
  else engines=chromium,firefox,webkit
  fi
fi
IFS=, read -r -a list <<<"$engines"
out="${out:-$ROOT/target/bench}"

# Firefox and WebKit run over WebDriver (tests/shared/browsers.mjs), one engine after another.
rc=0 reports=()
for engine in "${list[@]}"; do
  dir=$out
  [ "${#list[@]}" -gt 1 ] && dir="$out/$engine"
  log "bench ($engine) ${args[*]}"
  REWIND_ENGINE="$engine" node bench/run.mjs "${args[@]}" --out "$dir" || rc=1
  reports+=("$engine:$dir/$([ "$smoke" = 1 ] && echo smoke.md || echo report.md)")
done
if [ "${#list[@]}" -gt 1 ]; then
  echo
  echo "Ratios per engine (full reports in $out/<engine>/):"
  for r in "${reports[@]}"; do
    echo "## ${r%%:*}"
    grep -E '^(### |- backup|- restore|- file size)' "${r#*:}" 2>/dev/null || echo "(no report: the run failed)"
  done
fi
# The sweep over record and Blob sizes (bench/sweep.mjs, Chromium): with the full run only.
if [ "$smoke" = 0 ]; then
  log "sweep over record and Blob sizes"
  node bench/sweep.mjs --out "$out" || rc=1
fi
exit "$rc"
