#!/usr/bin/env bash
# Command 2: install what is missing (Chromium and Playwright too), then run every test: the
# cargo tests (unit and integration, real servers on loopback) and the Playwright suite in
# Chromium against the release build. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-browser
source scripts/env.sh

printf '\n==> cargo tests\n'
RUSTFLAGS="--cfg erase_components" cargo test --features ssr

printf '\n==> release build (the browser tests run against it: a broken wasm-opt only shows there)\n'
cargo leptos build --release

printf '\n==> browser tests (Playwright, Debian Chromium)\n'
cd end2end
npx playwright test
