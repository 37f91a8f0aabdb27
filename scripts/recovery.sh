#!/usr/bin/env bash
# Builds the recovery page for apps into dist/recovery/: a release build with every URL
# relative (Trunk's public URL "./"), no demo database and no rewind.json. An app copies the
# folder under any path of its site and writes rewind.json beside its index.html (README,
# "A recovery page for your app").
# Its wasm goes through Binaryen's wasm-opt (npm `binaryen`, as scripts/pkg.sh: Debian's is too
# old), and the script prints the page's download (wasm and JavaScript, gzipped); docs/size.md.
#   scripts/recovery.sh [out-dir]   default dist/recovery; an unchanged build is not redone
# Honours CARGO_TARGET_DIR (default: target/ of the repository).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

out="${1:-$ROOT/dist/recovery}"
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
# What the build is made of: an unchanged tree gives the same folder, so it is kept (the e2e
# tiers call this before every run).
stamp="$( { git ls-files -s web crate macros index.html Trunk.toml Cargo.toml Cargo.lock scripts/csp.mjs scripts/recovery.sh scripts/lib.sh
            git diff HEAD -- web crate macros index.html Trunk.toml Cargo.toml Cargo.lock scripts/csp.mjs scripts/recovery.sh scripts/lib.sh
            git ls-files -o --exclude-standard web crate macros | xargs -r sha256sum; } | sha256sum | cut -c1-32)"
if [ -f "$out/.build-stamp" ] && [ "$(cat "$out/.build-stamp")" = "$stamp" ]; then
  log "${out#$ROOT/}/ is up to date"
  exit 0
fi

log "trunk build --release (Cargo profile pkg, as the npm package) into ${out#$ROOT/}/ (public URL ./)"
rm -rf "$out"
env -u REWIND_DEMO CARGO_TARGET_DIR="$target_dir" trunk build --release --cargo-profile pkg --dist "$out" --public-url ./

# The same wasm-opt settings as the npm package (scripts/lib.sh, docs/size.md).
for wasm in "$out"/*.wasm; do
  wasm_opt_cached "$wasm"
  # Trunk's preload of the wasm carries its digest (Subresource Integrity): the digest of the
  # file as it is now, or the browser refuses the preload.
  digest="sha384-$(openssl dgst -sha384 -binary "$wasm" | base64 -w0)"
  name="$(basename "$wasm")"
  sed -i -E "s|(href=\"\./$name\"[^>]*integrity=\")[^\"]*|\1$digest|" "$out/index.html"
  grep -q "$digest" "$out/index.html" || { echo "index.html has no preload of $name to update" >&2; exit 1; }
done

# The download: every .wasm and .js the page loads (the service worker and its first-visit
# fetches aside), each gzipped alone as a server would send it.
total=0; gz=0
while IFS= read -r f; do
  total=$((total + $(stat -c%s "$f"))); gz=$((gz + $(gzip -9c "$f" | wc -c)))
done < <(find "$out" -type f \( -name '*.wasm' -o -name '*.js' \) ! -name sw.js | sort)
log "dist/recovery: wasm + js $total bytes, $gz gzipped (limit 512000)"
if [ "$gz" -gt 512000 ]; then
  echo "the recovery page's download is $gz bytes gzipped, over 500 KB (docs/size.md)" >&2
  exit 1
fi
echo "$stamp" >"$out/.build-stamp"
