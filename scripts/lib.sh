# Shared helpers for the scripts in scripts/. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
# The wasm-bindgen version is pinned once, with `=`, in the workspace Cargo.toml; the CLI must match it.
wasm_bindgen_version() {
  sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p; s/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' "$ROOT/Cargo.toml" | head -n1
}
TRUNK_VERSION=0.21.14
GECKODRIVER_VERSION=0.37.1
# Binaryen's wasm-opt from the npm dev tools (Debian's is too old for this wasm), with the
# features rustc's wasm32 target enables (the module's target_features section). -O1 and the
# names, producers and features sections dropped: the smallest gzipped (-Oz, -Os and -O3 make
# the file smaller but its gzip larger; docs/size.md). Optimises the file in place; its output
# is kept per input under target/wasm-opt-cache/, so an unchanged build is not optimised again.
WASM_OPT_FLAGS=(-O1 --strip-debug --strip-producers --strip-target-features
                --enable-bulk-memory --enable-bulk-memory-opt --enable-call-indirect-overlong
                --enable-multivalue --enable-mutable-globals --enable-nontrapping-float-to-int
                --enable-reference-types --enable-sign-ext)
wasm_opt_cached() {
  local wasm=$1 cache="${CARGO_TARGET_DIR:-$ROOT/target}/wasm-opt-cache" key
  mkdir -p "$cache"
  key="$( { wasm-opt --version; echo "${WASM_OPT_FLAGS[*]}"; cat "$wasm"; } | sha256sum | cut -c1-32)"
  if [ ! -f "$cache/$key.wasm" ]; then
    log "wasm-opt ${WASM_OPT_FLAGS[0]} $(basename "$wasm")"
    wasm-opt "${WASM_OPT_FLAGS[@]}" "$wasm" -o "$cache/$key.tmp"
    mv "$cache/$key.tmp" "$cache/$key.wasm"
  else
    log "wasm-opt: unchanged input, output reused from ${cache#$ROOT/}/"
  fi
  cp "$cache/$key.wasm" "$wasm"
}
