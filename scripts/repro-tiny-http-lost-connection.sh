#!/bin/bash
# A deterministic reproduction of the lost connection in wasm-bindgen-test-runner's page
# server (tiny_http 0.12's TaskPool), with no browser: gdb holds every thread of the server
# but its accept thread while six connections are handed to the pool, as a loaded machine
# does when the pool's idle threads are slow to wake. Each of the six sends a request and
# keeps its connection open, as Chromium does.
# Needs gdb, python3, node. See docs/engines.md ("The test runner's page server loses a
# connection"). Usage: scripts/repro-tiny-http-lost-connection.sh WASM (any test .wasm built
# for wasm32; the server only serves it). Two or three of the six are never answered; one
# request from outside for each, and they are.
set -u
wasm=$1
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
NO_HEADLESS=1 WASM_BINDGEN_TEST_ADDRESS=127.0.0.1:$port wasm-bindgen-test-runner "$wasm" >/dev/null 2>&1 &
server=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
sleep 6   # threads beyond the pool's 4 (started by the probe above) end after 5 s idle
# The accept thread: the one in accept4.
lwp=$(for t in /proc/$server/task/*; do [ "$(cat $t/wchan)" = "inet_csk_accept" ] && basename $t; done | head -1)
echo "server pid $server, accept thread $lwp, port $port"
python3 - "$port" "$server" "$lwp" <<'PY'
import os, socket, subprocess, sys, time
port, server, lwp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
# gdb stops the server; only the accept thread is let run (it was blocked in accept4), until
# it is back in accept4 with all six connections accepted and handed to the pool.
gdb = subprocess.Popen(["gdb", "-q", "-p", server, "-batch",
    "-ex", "set pagination off",
    "-ex", "python import gdb; [t.switch() for t in gdb.selected_inferior().threads() if t.ptid[1] == " + lwp + "]",
    "-ex", "set scheduler-locking on",
    "-ex", "break accept4",
    "-ex", "continue 6",
    "-ex", "info threads",
    "-ex", "set scheduler-locking off",
    "-ex", "detach"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
time.sleep(3)  # gdb attached (all threads stopped)
req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
conns = []
for _ in range(6):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(req); conns.append(s)
gdb.communicate(timeout=60)
answered = 0
unanswered = []
for i, s in enumerate(conns):
    s.settimeout(5)
    try:
        ok = bool(s.recv(64))
    except socket.timeout:
        ok = False
    answered += ok
    if not ok: unanswered.append(s)
    print(f"connection {i + 1}: {'answered' if ok else 'NO ANSWER in 5 s'}")
print(f"{answered} of 6 answered")
# The workaround of scripts/test.sh: one more request on a new connection, from outside.
for poke in range(6 - answered):
    p = socket.create_connection(("127.0.0.1", port)); p.sendall(req.replace(b"keep-alive", b"close")); p.recv(64); p.close()
late = 0
for s in unanswered:
    try:
        late += bool(s.recv(64))
    except socket.timeout:
        pass
print(f"after {6 - answered} poke(s): {late} of the {6 - answered} unanswered answered")
PY
kill $server
