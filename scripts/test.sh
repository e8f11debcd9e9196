#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine.
#
# The browser tests drive three engines from Debian's packages: Chromium
# (`chromium`, Node + playwright-core), Firefox ESR (`firefox-esr`, Node +
# puppeteer-core over WebDriver BiDi) and WebKitGTK (`webkit2gtk-driver`
# under `xvfb`, W3C WebDriver). This script installs them when they are
# missing and sets CORSAIR_REQUIRE_BROWSERS=1, so a browser that cannot be
# started FAILS its tests here (plain `cargo test` skips them, saying so).
# CORSAIR_SKIP_BROWSER=1 skips the browser tests explicitly.
#
# The export tests run the servers corsair exports to: Debian's
# `nginx-light`, `haproxy`, `caddy` and `apache2`, installed here when
# missing, and required (CORSAIR_REQUIRE_SERVERS=1: plain `cargo test` skips
# a missing one, saying so).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=""
apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
  if [ -z "$apt_updated" ]; then
    $sudo apt-get update -qq && apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# need PACKAGE PATH...: installs PACKAGE unless every PATH is executable.
need() {
  local package=$1 path missing=""
  shift
  for path in "$@"; do [ -x "$path" ] || missing=1; done
  [ -z "$missing" ] && return 0
  echo "test.sh: installing Debian's $package" >&2
  apt_install "$package" ||
    echo "test.sh: could not install $package: the tests that need it will fail" >&2
}

export CORSAIR_REQUIRE_SERVERS=1
need nginx-light /usr/sbin/nginx
need haproxy /usr/sbin/haproxy
need caddy /usr/bin/caddy
need apache2 /usr/sbin/apache2

# The Gateway API CRD schema the gateway-api exports are validated against.
if ! command -v npm >/dev/null; then
  need npm /usr/bin/npm
fi
if command -v npm >/dev/null; then
  (cd crates/corsair-conformance/schemas && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${CORSAIR_SKIP_BROWSER:-}" != "1" ]; then
  export CORSAIR_REQUIRE_BROWSERS=1
  need chromium "${CORSAIR_CHROMIUM:-/usr/bin/chromium}"
  need firefox-esr "${CORSAIR_FIREFOX:-/usr/bin/firefox-esr}"
  need webkit2gtk-driver "${CORSAIR_WEBKIT_DRIVER:-/usr/bin/WebKitWebDriver}"
  need xvfb /usr/bin/Xvfb
  if command -v npm >/dev/null; then
    (cd crates/corsair-conformance/browser && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

cargo test --workspace --locked
