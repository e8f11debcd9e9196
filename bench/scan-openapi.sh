#!/usr/bin/env bash
# Times `corsair scan --openapi` over a spec of N operations on loopback,
# next to the same operations scanned as one `corsair scan URL` call each.
#
# The spec has N/2 paths /r/K, each with a GET and a PUT (JSON body, so the
# PUT's preflight asks for content-type). A threaded Python server reflects
# the Origin (with credentials) on paths whose K is a multiple of 10, and
# refuses the others; it counts every request it receives.
#
# Usage: bench/scan-openapi.sh [N] [CONCURRENCY]   (default 500 operations, 64)
# Needs a release build (built here) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
concurrency=${2:-64}
cargo build --release --quiet -p corsair-cli
bin=./target/release/corsair
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$port" "$tmp/count" <<'PY' &
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
count = 0
lock = threading.Lock()
class H(BaseHTTPRequestHandler):
    def answer(self):
        global count
        with lock:
            count += 1
        self.send_response(204 if self.command == "OPTIONS" else 200)
        origin = self.headers.get("Origin")
        key = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        if origin and key.isdigit() and int(key) % 10 == 0:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Access-Control-Allow-Methods", "GET, PUT")
            self.send_header("Access-Control-Allow-Headers", "content-type")
        self.send_header("Vary", "Origin")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_COUNT(self):
        self.send_response(200)
        body = str(count).encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_OPTIONS = do_PUT = do_HEAD = answer
    def log_message(self, *a): pass
ThreadingHTTPServer.request_queue_size = 1024
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5
requests() { curl -s -X COUNT "http://127.0.0.1:$port/"; }

{
  echo "openapi: 3.0.3"
  echo "info: {title: bench, version: '1'}"
  echo "paths:"
  for k in $(seq 1 $((n / 2))); do
    echo "  /r/$k:"
    echo "    get: {responses: {'200': {description: ok}}}"
    echo "    put: {requestBody: {content: {application/json: {}}}, responses: {'200': {description: ok}}}"
  done
} > "$tmp/spec.yaml"
server_url="http://api.example.com:$port"
resolve="api.example.com:$port:127.0.0.1"

before=$(requests)
start=$(date +%s.%N)
set +e
"$bin" scan --openapi "$tmp/spec.yaml" --server "$server_url" --resolve "$resolve" \
  --concurrency "$concurrency" --timeout 30 --json > "$tmp/openapi.json"
code=$?
set -e
end=$(date +%s.%N)
after=$(requests)
found=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(1 for t in r["targets"] if any(f["class"]=="reflect-any-origin" for f in t["findings"])), len(r["root_causes"]), sum(1 for t in r["targets"] if t["error"]))' "$tmp/openapi.json")
printf '| one `corsair scan --openapi` | %d operations | %.1f s | %d requests | exit %d | operations with reflect-any-origin, root causes, errors: %s |\n' \
  "$n" "$(echo "$end - $start" | bc)" "$((after - before))" "$code" "$found"

# The same GET operations as one scan call per URL, CONCURRENCY at a time
# (a URL scan sends only GETs and made-up preflights: the PUTs cannot be
# described on a command line).
for k in $(seq 1 $((n / 2))); do echo "$server_url/r/$k"; done > "$tmp/urls"
before=$(requests)
start=$(date +%s.%N)
set +e
xargs -P "$concurrency" -I{} "$bin" scan {} --resolve "$resolve" --timeout 30 --json < "$tmp/urls" > "$tmp/each.json" 2>/dev/null
set -e
end=$(date +%s.%N)
after=$(requests)
printf '| one `corsair scan URL` per GET operation | %d operations | %.1f s | %d requests | | |\n' \
  "$((n / 2))" "$(echo "$end - $start" | bc)" "$((after - before))"
