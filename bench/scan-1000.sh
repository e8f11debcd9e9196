#!/usr/bin/env bash
# Times `corsair scan` over 1,000 targets on loopback.
#
# A small threaded Python server answers every path, reflecting the Origin
# of requests for paths ending in an odd number (a planted reflect-any-origin)
# and refusing the others. The 1,000 targets are
# http://api.example.com:PORT/t/N, pinned to 127.0.0.1 with --resolve.
# Usage: bench/scan-1000.sh [CONCURRENCY]   (needs a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=${1:-64}
cargo build --release --quiet
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$port" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def answer(self):
        self.send_response(200)
        origin = self.headers.get("Origin")
        if origin and self.path.rstrip("/")[-1:] in "13579":
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_OPTIONS = answer
    def log_message(self, *a): pass
ThreadingHTTPServer.request_queue_size = 1024
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 0.5
targets=$(mktemp)
for i in $(seq 1 1000); do echo "http://api.example.com:$port/t/$i"; done > "$targets"
start=$(date +%s.%N)
set +e
./target/release/corsair scan --targets "$targets" --resolve "api.example.com:$port:127.0.0.1" \
    --concurrency "$concurrency" --timeout 30 --json > /tmp/scan-1000.json
code=$?
set -e
end=$(date +%s.%N)
python3 - "$start" "$end" "$code" <<'PY'
import json, sys
start, end, code = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
r = json.load(open("/tmp/scan-1000.json"))["targets"]
with_findings = sum(1 for t in r if t["findings"])
errors = sum(1 for t in r if t["error"])
print(f"1000 targets in {end-start:.1f} s (exit {code}): {with_findings} with findings (500 planted), {errors} errors")
PY
rm -f "$targets"
