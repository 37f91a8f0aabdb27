#!/usr/bin/env bash
# Builds the npm package into pkg/: rewind.js (ES module), rewind_bg.wasm, rewind.d.ts, snippets/,
# package.json and README.md (from js/package/, the version the crate's). `cd pkg && npm pack`
# gives the tarball an app installs.
#   import init, { Rewind } from "rewind-indexeddb"; await init();
#   scripts/pkg.sh --test-build   the same with the tests' switches (feature test-panic), into
#                                 target/pkg-test/ (never pkg/); the same Cargo profile, without
#                                 wasm-opt (it changes size, not behaviour) and without package.json
# The Cargo profile `pkg` and the wasm-opt level are chosen by measurement: docs/size.md.
# Honours CARGO_TARGET_DIR (default: target/ of the repository).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
out="$ROOT/pkg"; features=(); build_dir="$target_dir"; test_build=0
if [ "${1:-}" = "--test-build" ]; then
  # Its own target directory, so that it never replaces pkg/'s build (and each stays cached).
  out="$target_dir/pkg-test"; features=(--features test-panic); build_dir="$target_dir/test-build"
  test_build=1
fi
log "building rewind-js for wasm32 (profile pkg) ${features[*]}"
CARGO_TARGET_DIR="$build_dir" cargo build -p rewind-js --target wasm32-unknown-unknown --profile pkg "${features[@]}"
log "wasm-bindgen --target web into ${out#$ROOT/}/"
rm -rf "$out"
wasm-bindgen --target web --out-dir "$out" --out-name rewind \
  "$build_dir/wasm32-unknown-unknown/pkg/rewind_js.wasm"

if [ "$test_build" = 0 ]; then
  wasm_opt_cached "$out/rewind_bg.wasm"   # scripts/lib.sh

  version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/js/Cargo.toml" | head -n1)"
  [ -n "$version" ] || { echo "cannot read the version from js/Cargo.toml" >&2; exit 1; }
  sed "s/@VERSION@/$version/" "$ROOT/js/package/package.json" >"$out/package.json"
  cp "$ROOT/js/package/README.md" "$out/README.md"
  log "rewind_bg.wasm: $(stat -c%s "$out/rewind_bg.wasm") bytes, $(gzip -9c "$out/rewind_bg.wasm" | wc -c) gzipped"
fi
log "${out#$ROOT/}/: $(cd "$out" && ls | tr '\n' ' ')"
