#!/usr/bin/env bash
# Fuzzes the backup reader and the migration parser with cargo-fuzz (libFuzzer + AddressSanitizer).
#   scripts/fuzz.sh [seconds] [target…]   each target for `seconds` (default 300); all targets
#                                          (inspect decode_backup decode_value migrations) unless named
# The committed seeds in fuzz/corpus/<target> are only read; what libFuzzer finds goes to
# fuzz/target/corpus/<target> (kept between runs, not committed). Crashes: fuzz/artifacts/<target>.
# cargo-fuzz needs nightly flags; on a stable toolchain RUSTC_BOOTSTRAP=1 unlocks them.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

CARGO_FUZZ_VERSION=0.13.2
seconds="${1:-300}"; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(inspect decode_backup decode_value migrations)

have="$(cargo fuzz --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have" != "$CARGO_FUZZ_VERSION" ]; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION (found: ${have:-none}); this takes a few minutes"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force
fi

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$ROOT/fuzz/target"
log "building the fuzz targets"
cargo fuzz build --fuzz-dir fuzz

# Inputs: backups up to 64 KiB (the seeds are under 10 KiB); values and migration files 16 KiB.
max_len() { case "$1" in inspect|decode_backup) echo 65536 ;; *) echo 16384 ;; esac; }

passed=0; failed=0; total_runs=0; lines=()
for t in "${targets[@]}"; do
  work="fuzz/target/corpus/$t"; mkdir -p "$work" "fuzz/artifacts/$t"
  log "fuzzing $t for ${seconds}s"
  out="fuzz/target/fuzz-$t.log"
  set +e
  # -timeout: one input may take 5 s (a hang fails); -rss_limit_mb / -malloc_limit_mb: the
  # process may use 1 GiB and no single allocation may exceed 256 MiB (64 KiB inputs).
  cargo fuzz run --fuzz-dir fuzz "$t" "$work" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=5 \
    -rss_limit_mb=1024 -malloc_limit_mb=256 -print_final_stats=1 2>&1 | tee "$out" | grep -E '^(INFO: seed corpus|#[0-9]+ +DONE|==[0-9]+==|SUMMARY)|panicked' >&2
  rc=${PIPESTATUS[0]}
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -n1)"; runs="${runs:-0}"
  corpus="$(find "$work" -type f | wc -l)"
  total_runs=$((total_runs + runs))
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1)); lines+=("fuzz $t: ok, $runs inputs in ${seconds}s, corpus $corpus")
  else
    failed=$((failed + 1)); lines+=("fuzz $t: FAILED after $runs inputs (log: ${out}; input: fuzz/artifacts/$t/)")
  fi
done
printf '%s\n' "${lines[@]}"
echo "fuzz: $total_runs inputs tried in all"
echo "fuzz: $passed passed; $failed failed"
[ "$failed" -eq 0 ]
