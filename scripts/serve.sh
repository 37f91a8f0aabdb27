#!/usr/bin/env bash
# Installs what is missing, then serves the recovery page with the demo database.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
log "serving the recovery page; the demo database 'notes-demo' is created on first open"
echo "Open http://127.0.0.1:8080/ (Ctrl-C stops the server)"
REWIND_DEMO=1 exec trunk serve --address 127.0.0.1 --port 8080
