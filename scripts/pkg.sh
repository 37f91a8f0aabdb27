#!/usr/bin/env bash
# Builds the JavaScript package into pkg/: rewind.js (ES module), rewind_bg.wasm, rewind.d.ts.
#   import init, { Rewind } from "./pkg/rewind.js"; await init();
# Honours CARGO_TARGET_DIR (default: target/ of the repository).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
log "building rewind-js for wasm32 (release)"
cargo build -p rewind-js --target wasm32-unknown-unknown --release
log "wasm-bindgen --target web into pkg/"
rm -rf "$ROOT/pkg"
wasm-bindgen --target web --out-dir "$ROOT/pkg" --out-name rewind \
  "$target_dir/wasm32-unknown-unknown/release/rewind_js.wasm"
log "pkg/: $(cd "$ROOT/pkg" && ls | tr '\n' ' ')"
