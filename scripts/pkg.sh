#!/usr/bin/env bash
# Builds the JavaScript package into pkg/: rewind.js (ES module), rewind_bg.wasm, rewind.d.ts.
#   import init, { Rewind } from "./pkg/rewind.js"; await init();
#   scripts/pkg.sh --test-build   the same with the tests' switches (feature test-panic), into
#                                 target/pkg-test/ (never pkg/)
# Honours CARGO_TARGET_DIR (default: target/ of the repository).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
out="$ROOT/pkg"; features=(); build_dir="$target_dir"
if [ "${1:-}" = "--test-build" ]; then
  # Its own target directory, so that it never replaces pkg/'s build (and each stays cached).
  out="$target_dir/pkg-test"; features=(--features test-panic); build_dir="$target_dir/test-build"
fi
log "building rewind-js for wasm32 (release) ${features[*]}"
CARGO_TARGET_DIR="$build_dir" cargo build -p rewind-js --target wasm32-unknown-unknown --release "${features[@]}"
log "wasm-bindgen --target web into ${out#$ROOT/}/"
rm -rf "$out"
wasm-bindgen --target web --out-dir "$out" --out-name rewind \
  "$build_dir/wasm32-unknown-unknown/release/rewind_js.wasm"
log "${out#$ROOT/}/: $(cd "$out" && ls | tr '\n' ' ')"
