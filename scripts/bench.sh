#!/usr/bin/env bash
# Runs the benchmarks and prints their numbers (not part of the test command: they measure,
# they do not pass or fail).
#   retry route vs bare axum (issue 3), live-update costs (issue 4: bytes per change, server
#   CPU/memory with 100 clients, router→DOM latency in Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-browser
source scripts/env.sh

cargo leptos build --release
cargo bench --features ssr --bench retry
cargo bench --features ssr --bench live
(cd end2end && npx playwright test --config playwright.bench.config.ts --reporter=line)
