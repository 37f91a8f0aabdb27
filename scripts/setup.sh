#!/usr/bin/env bash
# Installs what the project needs and is missing, checking versions; safe to run again.
#   scripts/setup.sh          tools to build and serve the page
#   scripts/setup.sh --test   also the engines the browser tiers run in: Chromium + chromedriver,
#                             Firefox ESR + geckodriver, WebKitGTK's WebKitWebDriver + MiniBrowser,
#                             and Xvfb (MiniBrowser needs a display)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt

want_wb="$(wasm_bindgen_version)"
[ -n "$want_wb" ] || { echo "cannot read the pinned wasm-bindgen version from Cargo.toml" >&2; exit 1; }
have_wb="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have_wb" != "$want_wb" ]; then
  log "installing wasm-bindgen-cli $want_wb (found: ${have_wb:-none}); this takes several minutes"
  # Not --locked: with it, a pinned dependency is missing from the registry.
  cargo install wasm-bindgen-cli --version "$want_wb" --force
fi

have_trunk="$(trunk --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have_trunk" != "$TRUNK_VERSION" ]; then
  log "installing trunk $TRUNK_VERSION (found: ${have_trunk:-none}); this takes several minutes"
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

# npm dev tools, exactly as the committed lockfile says.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.rewind-lock; then
  log "installing npm dev tools from package-lock.json"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.rewind-lock
fi

if [ "${1:-}" = "--test" ]; then
  have_fuzz="$(cargo fuzz --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have_fuzz" != "0.13.2" ]; then
    log "installing cargo-fuzz 0.13.2 (found: ${have_fuzz:-none})"
    cargo install cargo-fuzz --version 0.13.2 --locked --force
  fi
  # Debian's browsers and drivers (never a browser download): command -> package.
  missing=()
  for pair in /usr/bin/chromium:chromium /usr/bin/chromedriver:chromium-driver \
              /usr/bin/firefox-esr:firefox-esr /usr/bin/WebKitWebDriver:webkit2gtk-driver \
              /usr/bin/xvfb-run:xvfb /usr/bin/xauth:xauth /usr/bin/curl:curl; do
    [ -x "${pair%%:*}" ] || missing+=("${pair#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} from Debian"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  have_gecko="$(geckodriver --version 2>/dev/null | awk 'NR==1 {print $2}' || true)"
  if [ "$have_gecko" != "$GECKODRIVER_VERSION" ]; then
    log "installing geckodriver $GECKODRIVER_VERSION (found: ${have_gecko:-none}); this takes several minutes"
    cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked --force
  fi
fi
