#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
