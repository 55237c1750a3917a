#!/usr/bin/env bash
# Command 1: install what is missing, build the release, and serve Beacon on
# http://127.0.0.1:8090 with SQLite under ./data/ and the built-in demo router.
# Every setting in the README's configuration table can be passed as an environment variable.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

printf '\n==> building (release)\n'
cargo leptos build --release

export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
export LEPTOS_ENV="${LEPTOS_ENV:-PROD}"
exec target/release/beacon "$@"
