#!/usr/bin/env bash
# Fuzzes the backup reader and the migration parser with cargo-fuzz (libFuzzer + AddressSanitizer).
#   scripts/fuzz.sh --replay [target…]     deterministic (what `make test` runs): every committed
#                                          seed (fuzz/corpus/<target>) and every past finding
#                                          (fuzz/regressions/<target>) replayed, then a burst of
#                                          a fixed number of inputs from a fixed seed. The same
#                                          commit always gives the same verdict.
#   scripts/fuzz.sh [seconds] [target…]    open-ended (what `make fuzz` runs): each target for
#                                          `seconds` (default 300), from a random seed.
# Targets: inspect decode_backup chunked decode_value migrations (all unless named).
# Committed inputs are only read; what an open-ended run finds goes to fuzz/target/corpus/<target>
# (kept between runs, not committed) and crashes to fuzz/artifacts/<target>. A crash, once fixed,
# is committed to fuzz/regressions/<target>/ so that every later `make test` replays it.
# cargo-fuzz needs nightly flags; on a stable toolchain RUSTC_BOOTSTRAP=1 unlocks them.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

CARGO_FUZZ_VERSION=0.13.2
# The replay burst: this many generated inputs per target, from this seed. Changing either
# changes what `make test` tries, so change them in a commit of their own.
REPLAY_SEED=20261130
REPLAY_RUNS=30000

mode=open
if [ "${1:-}" = "--replay" ]; then mode=replay; shift; else seconds="${1:-300}"; shift || true; fi
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(inspect decode_backup chunked decode_value migrations)

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
max_len() { case "$1" in inspect|decode_backup|chunked) echo 65536 ;; *) echo 16384 ;; esac; }

passed=0; failed=0; total_runs=0; lines=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/artifacts/$t"
  seeds=("fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && seeds+=("fuzz/regressions/$t")
  replayed="$(find "${seeds[@]}" -type f | wc -l)"
  out="fuzz/target/fuzz-$t.log"
  # -timeout: one input may take 10 s (a hang fails); -rss_limit_mb / -malloc_limit_mb: the
  # process may use 1 GiB and no single allocation may exceed 256 MiB (64 KiB inputs).
  common=(-max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=256
          -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/")
  if [ "$mode" = replay ]; then
    # New inputs go to a fresh directory that is thrown away, so nothing from an earlier run
    # (or another machine) changes what this run tries.
    work="$(mktemp -d)"
    log "replaying $replayed inputs of $t, then $REPLAY_RUNS from seed $REPLAY_SEED"
    # Two sources of chance are switched off: comparison tracing (it records operands,
    # pointers among them, which address randomization changes from run to run) and reloading
    # the corpus directories every second (what a reload finds depends on speed). Then the
    # same seed makes the same inputs, run after run: the coverage, feature and corpus counts
    # printed below are identical.
    flags=(-seed="$REPLAY_SEED" -runs="$REPLAY_RUNS" -use_cmp=0 -use_value_profile=0 -reload=0 "${common[@]}")
  else
    work="fuzz/target/corpus/$t"; mkdir -p "$work"
    log "fuzzing $t for ${seconds}s"
    flags=(-max_total_time="$seconds" "${common[@]}")
  fi
  set +e
  cargo fuzz run --fuzz-dir fuzz "$t" "$work" "${seeds[@]}" -- "${flags[@]}" 2>&1 | tee "$out" \
    | grep -E '^(INFO: seed corpus|#[0-9]+ +DONE|==[0-9]+==|SUMMARY)|panicked' >&2
  rc=${PIPESTATUS[0]}
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -n1)"; runs="${runs:-0}"
  total_runs=$((total_runs + runs))
  [ "$mode" = replay ] && rm -rf "$work"
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    if [ "$mode" = replay ]; then
      fingerprint="$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$out" | tail -n1)"
      lines+=("fuzz $t: ok, $replayed committed inputs replayed, $runs inputs in all (seed $REPLAY_SEED; $fingerprint)")
    else
      lines+=("fuzz $t: ok, $runs inputs in ${seconds}s, corpus $(find "$work" -type f | wc -l)")
    fi
  else
    failed=$((failed + 1)); lines+=("fuzz $t: FAILED after $runs inputs (log: ${out})")
    # The failing input, so that a CI log alone is enough to reproduce it.
    for f in $(grep -o "fuzz/artifacts/$t/[^ ]*" "$out" | sort -u); do
      [ -f "$f" ] && { echo "input $f (hex):"; od -An -tx1 -v "$f" | head -n 64; }
    done
  fi
done
printf '%s\n' "${lines[@]}"
echo "fuzz: $total_runs inputs tried in all"
echo "fuzz: $passed passed; $failed failed"
[ "$failed" -eq 0 ]
