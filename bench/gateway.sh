#!/usr/bin/env bash
# Benchmark `corsair serve` against nginx doing the same CORS job, with wrk.
#
#   bench/gateway.sh            # 3 interleaved rounds, 10 s per run
#   DURATION=5s ROUNDS=5 bench/gateway.sh
#   CORSAIR_BIN=/path/to/corsair bench/gateway.sh   # a prebuilt binary (A/B runs)
#   TARGETS="corsair nginx" bench/gateway.sh       # a subset of the rows
#
# Needs: wrk and nginx (Debian: apt-get install wrk nginx-light), cargo.
# Everything listens on 127.0.0.1. The targets get the same wrk settings
# (THREADS threads, CONNS connections, DURATION each), two request shapes:
#   GET       an actual request from an allowed origin
#   preflight OPTIONS + Origin + Access-Control-Request-Method: PUT
# Targets:
#   upstream  the upstream alone: nginx returning a static 200 "hello"
#   corsair   corsair serve (release build) in front of that upstream
#   nginx     nginx as a reverse proxy in front of the same upstream, with
#             the same policy written the usual way (config below)
#   nginx-export  nginx running `corsair export --to nginx` of the same
#             policy (every check of the policy as maps), with the recipe's
#             worker and keep-alive settings
#   floor     the cheapest proxy hyper allows (crates/corsair-cli/examples/
#             hyper_floor.rs: no CORS, no header touched, one upstream
#             connection per client connection, same threads as corsair)
#             and, for preflights, the same binary answering a fixed 204:
#             the most any gateway built on hyper could do here
# Access logs are off for both proxies (corsair --log-level warn, nginx
# access_log off); one extra row runs corsair with its JSON access log on.
# Both proxies get 2 workers (nginx worker_processes 2, corsair
# TOKIO_WORKER_THREADS=2: 2 worker threads, each with its own single-threaded
# runtime and upstream pool); the upstream nginx gets 1.
# Prints a Markdown table: requests/s (median, and its range over the
# rounds), p50 and p99 latency, and the CPU time (user + system, all threads
# and worker processes) the measured server spent per request: the proxy in
# the proxy rows, the upstream in its own. Then the ratios corsair / nginx,
# exported nginx / nginx recipe, corsair / exported nginx and floor / nginx
# within each round (the rows of a round run back to back,
# so their ratio moves less with the machine's load than two medians do).
# On a shared 2-CPU machine requests/s is what is left over for the proxy
# after wrk and the upstream; CPU per request is the proxy's own cost.
set -euo pipefail

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
CONNS=${CONNS:-256}
ORIGIN=https://app.example.com
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

for tool in wrk nginx cargo; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install wrk nginx-light)" >&2; exit 2; }
done

TARGETS=${TARGETS:-upstream corsair nginx nginx-export floor corsair-log}
want() { [[ " $TARGETS " == *" $1 "* ]]; }

TMP=$(mktemp -d)
if [ -n "${CORSAIR_BIN:-}" ]; then
  cp "$CORSAIR_BIN" "$TMP/corsair"
else
  cargo build --release -q -p corsair-cli --manifest-path "$ROOT/Cargo.toml"
  # A private copy: a shared target dir may be rebuilt from another branch.
  cp "$CARGO_TARGET_DIR/release/corsair" "$TMP/corsair"
fi
CORSAIR=$TMP/corsair
if want floor; then
  cargo build --release -q -p corsair-cli --example hyper_floor --manifest-path "$ROOT/Cargo.toml"
  cp "$CARGO_TARGET_DIR/release/examples/hyper_floor" "$TMP/hyper_floor"
fi
"$CORSAIR" serve --help >/dev/null || { echo "error: this corsair has no serve command" >&2; exit 1; }

chmod 755 "$TMP"
[ "$(id -u)" = 0 ] && chown 65534:65534 "$TMP"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# Ports below the ephemeral range, so wrk's own connections never hold them.
# Seven distinct free ports.
read -r UP CS CL NG FL FS NE < <(python3 -c 'import socket, random
ports = []
while len(ports) < 7:
    p = random.randint(20000, 32000); s = socket.socket()
    try: s.bind(("127.0.0.1", p))
    except OSError: continue
    finally: s.close()
    if p not in ports: ports.append(p)
print(*ports)')

# nginx runs in the foreground as an unprivileged user (nobody when the
# script runs as root), with every path inside $TMP.
as_user() {
  if [ "$(id -u)" = 0 ]; then exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else exec "$@"; fi
}
nginx_common="
pid $TMP/%s.pid;
error_log $TMP/%s-error.log warn;
worker_processes %s;
events { worker_connections 4096; }
"
temp_paths="
  client_body_temp_path $TMP/body; proxy_temp_path $TMP/proxy;
  fastcgi_temp_path $TMP/fcgi; uwsgi_temp_path $TMP/uwsgi; scgi_temp_path $TMP/scgi;
"

# The upstream: a static answer, the cheapest HTTP server at hand.
# shellcheck disable=SC2059
printf "$nginx_common" upstream upstream 1 > "$TMP/upstream.conf"
cat >> "$TMP/upstream.conf" <<CONF
http {
  access_log off; $temp_paths
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$UP;
    location / { return 200 "hello\n"; }
  }
}
CONF

# nginx as a CORS proxy, the usual recipe:
# - `map` turns the allowlist into $cors_origin ("" for other origins, and
#   add_header skips empty values, so refused origins get no ACAO);
# - `if ($request_method = OPTIONS)` answers preflights; add_header inside
#   `if` replaces every add_header of the location, so the preflight
#   headers are all repeated there; `always` adds them to error responses
#   too (502, 504, 413), which the default does not;
# - proxy_hide_header drops the upstream's own Access-Control-* headers;
# - the forwarding headers are the ones corsair sends (X-Forwarded-For
#   appended, -Proto, -Host, and a Forwarded element), so both proxies
#   send the upstream the same request (nginx's Forwarded replaces a
#   client's instead of appending to it: the benchmark's requests carry
#   none).
# What it does not do, unlike corsair: check the requested method and
# headers (every OPTIONS with any method gets 204), refuse a preflight
# with 403, tell a preflight from a plain OPTIONS, merge Vary with the
# upstream's (it appends a second Vary line).
# shellcheck disable=SC2059
printf "$nginx_common" proxy proxy 2 > "$TMP/proxy.conf"
cat >> "$TMP/proxy.conf" <<CONF
http {
  access_log off; $temp_paths
  keepalive_requests 1000000;
  map \$http_origin \$cors_origin {
    default "";
    "$ORIGIN" \$http_origin;
  }
  upstream api { server 127.0.0.1:$UP; keepalive 256; }
  server {
    listen 127.0.0.1:$NG;
    location / {
      if (\$request_method = OPTIONS) {
        add_header Access-Control-Allow-Origin \$cors_origin always;
        add_header Access-Control-Allow-Methods "GET, PUT" always;
        add_header Access-Control-Allow-Headers "authorization" always;
        add_header Access-Control-Max-Age 600 always;
        add_header Vary "origin, access-control-request-method, access-control-request-headers" always;
        add_header Content-Length 0;
        return 204;
      }
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header Forwarded "for=\$remote_addr;host=\"\$host\";proto=\$scheme";
      proxy_hide_header Access-Control-Allow-Origin;
      proxy_hide_header Access-Control-Allow-Credentials;
      proxy_hide_header Access-Control-Expose-Headers;
      add_header Access-Control-Allow-Origin \$cors_origin always;
      add_header Vary Origin always;
    }
  }
}
CONF

# corsair: the same policy.
cat > "$TMP/corsair.toml" <<CONF
listen = "127.0.0.1:$CS"
upstream = "http://127.0.0.1:$UP"
[cors]
allow_origins = ["$ORIGIN"]
allow_methods = ["GET", "PUT"]
allow_headers = ["authorization"]
max_age = 600
CONF

# nginx running `corsair export --to nginx` of the same policy, with the
# recipe's process settings (2 workers, long keep-alive with wrk) so that
# the two nginx rows differ only by their CORS configuration.
if want nginx-export; then
  mkdir -p "$TMP/export"
  "$CORSAIR" export --config "$TMP/corsair.toml" --to nginx --listen "127.0.0.1:$NE" \
    | sed -e 's/^worker_processes auto;/worker_processes 2;/' \
          -e 's/^    access_log off;/    access_log off;\n    keepalive_requests 1000000;/' \
          -e 's/worker_connections 1024;/worker_connections 4096;/' \
          -e 's/keepalive 64;/keepalive 256;/' > "$TMP/export/nginx.conf"
  [ "$(id -u)" = 0 ] && chown -R 65534:65534 "$TMP/export"
  as_user nginx -p "$TMP/export" -e "$TMP/export-error.log" -c "$TMP/export/nginx.conf" & NE_PID=$!; PIDS+=($NE_PID)
fi
as_user nginx -p "$TMP" -e "$TMP/upstream-error.log" -c "$TMP/upstream.conf" -g 'daemon off;' & UP_PID=$!; PIDS+=($UP_PID)
as_user nginx -p "$TMP" -e "$TMP/proxy-error.log" -c "$TMP/proxy.conf" -g 'daemon off;' & NG_PID=$!; PIDS+=($NG_PID)

wait_port() {
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "error: nothing listening on port $1" >&2; exit 1
}
start_corsair() { # port, then flags
  local port=$1; shift
  TOKIO_WORKER_THREADS=2 "$CORSAIR" serve --config "$TMP/corsair.toml" --listen "127.0.0.1:$port" "$@" 2>"$TMP/corsair-$port.log" & CORSAIR_PID=$!
  PIDS+=($CORSAIR_PID)
  wait_port "$port"
}

cat > "$TMP/preflight.lua" <<LUA
wrk.method = "OPTIONS"
wrk.headers["Origin"] = "$ORIGIN"
wrk.headers["Access-Control-Request-Method"] = "PUT"
LUA

wait_port "$UP"; wait_port "$NG"

# Sanity: every target answers as expected before it is measured.
check() { # url method expected-status
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X "$2" -H "Origin: $ORIGIN" -H 'Access-Control-Request-Method: PUT' "$1")
  [ "$code" = "$3" ] || { echo "error: $2 $1 answered $code, expected $3" >&2; exit 1; }
}

# CPU time (user + system, all threads) of processes $@ and their children,
# in clock ticks.
cpu_ticks() {
  local t=0 p s fields
  for p in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
    for s in /proc/"$p"/task/*/stat; do
      # Fields 14 and 15 (utime, stime), counted after the ")" that ends
      # the command name.
      fields=$(sed 's/.*) //' "$s" 2>/dev/null | awk '{print $12 + $13}') || continue
      t=$((t + ${fields:-0}))
    done
  done
  echo "$t"
}

run() { # label url lua|- pid... (the measured server's processes, for the CPU column)
  local label=$1 url=$2 lua=$3 out rps p50 p99 errs before after reqs cpu=""
  shift 3
  [ "$lua" = - ] && lua=""
  before=$(cpu_ticks "$@")
  if [ -n "$lua" ]; then
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$lua" "$url")
  else
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Origin: $ORIGIN" "$url")
  fi
  after=$(cpu_ticks "$@")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  if [ $# -gt 0 ] && [ "${reqs:-0}" -gt 0 ]; then
    cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" 'BEGIN {printf "%.1f", t / hz / n * 1e6}')
  fi
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/ {sub(/^ +/, ""); printf "%s; ", $0}' <<<"$out")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$rps" "$p50" "$p99" "${cpu:--}" "${errs:-none}"
}

# Every server is started once, then ROUNDS rounds each measure every row
# in turn: on a shared VM the machine's speed drifts from minute to minute,
# and interleaving spreads the drift over all rows alike. Each cell of the
# table is the median over the rounds.
if want corsair; then
  start_corsair "$CS" --log-level warn; CS_PID=$CORSAIR_PID
  check "http://127.0.0.1:$CS/" GET 200; check "http://127.0.0.1:$CS/" OPTIONS 204
fi
if want corsair-log; then
  start_corsair "$CL" --log-level info --log-format json; CL_PID=$CORSAIR_PID
fi
if want nginx; then
  check "http://127.0.0.1:$NG/" GET 200; check "http://127.0.0.1:$NG/" OPTIONS 204
fi
if want nginx-export; then
  wait_port "$NE"
  check "http://127.0.0.1:$NE/" GET 200; check "http://127.0.0.1:$NE/" OPTIONS 204
fi
if want floor; then
  TOKIO_WORKER_THREADS=2 "$TMP/hyper_floor" "127.0.0.1:$FL" "127.0.0.1:$UP" & FL_PID=$!; PIDS+=($FL_PID)
  TOKIO_WORKER_THREADS=2 "$TMP/hyper_floor" "127.0.0.1:$FS" static & FS_PID=$!; PIDS+=($FS_PID)
  wait_port "$FL"; wait_port "$FS"
  check "http://127.0.0.1:$FL/" GET 200; check "http://127.0.0.1:$FS/" OPTIONS 204
fi

RESULTS=$TMP/results
for round in $(seq "$ROUNDS"); do
  echo "round $round of $ROUNDS" >&2
  if want upstream; then
    run "upstream directly, GET" "http://127.0.0.1:$UP/" - "$UP_PID"
    run "upstream directly, OPTIONS" "http://127.0.0.1:$UP/" "$TMP/preflight.lua" "$UP_PID"
  fi
  if want corsair; then
    run "corsair serve, GET (allowed origin)" "http://127.0.0.1:$CS/" - "$CS_PID"
    run "corsair serve, preflight (allowed)" "http://127.0.0.1:$CS/" "$TMP/preflight.lua" "$CS_PID"
  fi
  if want nginx; then
    run "nginx proxy, GET (allowed origin)" "http://127.0.0.1:$NG/" - "$NG_PID"
    run "nginx proxy, preflight (allowed)" "http://127.0.0.1:$NG/" "$TMP/preflight.lua" "$NG_PID"
  fi
  if want nginx-export; then
    run "nginx, exported config, GET (allowed origin)" "http://127.0.0.1:$NE/" - "$NE_PID"
    run "nginx, exported config, preflight (allowed)" "http://127.0.0.1:$NE/" "$TMP/preflight.lua" "$NE_PID"
  fi
  if want floor; then
    run "hyper floor, GET (pass-through, no CORS)" "http://127.0.0.1:$FL/" - "$FL_PID"
    run "hyper floor, preflight (fixed 204)" "http://127.0.0.1:$FS/" "$TMP/preflight.lua" "$FS_PID"
  fi
  if want corsair-log; then
    run "corsair serve + JSON access log, GET" "http://127.0.0.1:$CL/" - "$CL_PID"
  fi
done > "$RESULTS"

echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, $(nproc) CPUs shared by wrk, proxy and upstream; medians of $ROUNDS interleaved rounds"
echo
python3 - "$RESULTS" <<'PY'
import statistics, sys
def ms(text):  # wrk prints 950.00us, 4.50ms or 1.20s
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float("nan")
rows = {}
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 6:
        rows.setdefault(cells[0], []).append(cells)
print("| target, request | requests/s | range over rounds | p50 | p99 | server CPU µs/request | errors |")
print("|---|---|---|---|---|---|---|")
for label, runs in rows.items():
    med = lambda i, f=float: statistics.median(f(r[i]) for r in runs)
    rps = [float(r[1]) for r in runs]
    cpu = [r[4] for r in runs if r[4] != "-"]
    errors = "; ".join(sorted({r[5] for r in runs if r[5] != "none"})) or "none"
    print("| %s | %.1fk | %.1fk-%.1fk | %.2fms | %.2fms | %s | %s |" % (
        label, med(1) / 1000, min(rps) / 1000, max(rps) / 1000, med(2, ms), med(3, ms),
        "%.1f" % statistics.median(map(float, cpu)) if cpu else "-", errors))
# Ratios within each round: the rows of one round ran back to back, under
# the same load from the rest of the machine, so their ratio moves less
# than the ratio of two medians.
pairs = [
    ("corsair / nginx, GET", "corsair serve, GET (allowed origin)", "nginx proxy, GET (allowed origin)"),
    ("corsair / nginx, preflight", "corsair serve, preflight (allowed)", "nginx proxy, preflight (allowed)"),
    ("exported nginx / nginx recipe, GET", "nginx, exported config, GET (allowed origin)", "nginx proxy, GET (allowed origin)"),
    ("exported nginx / nginx recipe, preflight", "nginx, exported config, preflight (allowed)", "nginx proxy, preflight (allowed)"),
    ("corsair / exported nginx, GET", "corsair serve, GET (allowed origin)", "nginx, exported config, GET (allowed origin)"),
    ("corsair / exported nginx, preflight", "corsair serve, preflight (allowed)", "nginx, exported config, preflight (allowed)"),
    ("floor / nginx, GET", "hyper floor, GET (pass-through, no CORS)", "nginx proxy, GET (allowed origin)"),
    ("floor / nginx, preflight", "hyper floor, preflight (fixed 204)", "nginx proxy, preflight (allowed)"),
]
lines = []
for name, a, b in pairs:
    if a in rows and b in rows:
        ratios = [float(x[1]) / float(y[1]) for x, y in zip(rows[a], rows[b]) if float(y[1]) > 0]
        if ratios:
            lines.append("%s, requests/s per round: %s (median %.2f)" % (
                name, " ".join("%.2f" % r for r in ratios), statistics.median(ratios)))
if lines:
    print()
    print("\n".join(lines))
PY
