#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine.
#
# The conformance suite (crates/corsair-conformance) drives Debian's headless
# Chromium (Node + playwright-core) and Firefox ESR (Node + puppeteer-core,
# WebDriver BiDi): this script installs them when they are missing. If a
# browser cannot be installed the suite FAILS; set CORSAIR_SKIP_BROWSER=1 to
# skip the browser tests explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
  if [ -z "${apt_updated:-}" ]; then
    $sudo apt-get update -qq && apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

if [ "${CORSAIR_SKIP_BROWSER:-}" != "1" ]; then
  if [ ! -x "${CORSAIR_CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "test.sh: installing Debian's chromium" >&2
    apt_install chromium ||
      echo "test.sh: could not install chromium: the browser tests will fail (CORSAIR_SKIP_BROWSER=1 skips them)" >&2
  fi
  if [ ! -x "${CORSAIR_FIREFOX:-/usr/bin/firefox-esr}" ]; then
    echo "test.sh: installing Debian's firefox-esr" >&2
    apt_install firefox-esr ||
      echo "test.sh: could not install firefox-esr: the Firefox tests will fail (CORSAIR_SKIP_BROWSER=1 skips them)" >&2
  fi
  if ! command -v npm >/dev/null; then
    echo "test.sh: installing node and npm" >&2
    apt_install nodejs npm ||
      echo "test.sh: could not install npm: the browser tests will fail" >&2
  fi
  if command -v npm >/dev/null; then
    (cd crates/corsair-conformance/browser && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

cargo test --workspace --locked
