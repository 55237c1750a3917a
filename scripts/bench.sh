#!/usr/bin/env bash
# Runs the benchmarks and prints their numbers. They measure; they do not pass or fail (the
# scale table says, per line, whether SCALE.md's target was met).
#   scale: SCALE.md's table, on SQLite and on a throwaway PostgreSQL cluster
#   retry: the retry route next to a bare axum handler, on SQLite and PostgreSQL
#   live: bytes per change and server CPU/memory with 100 clients, on SQLite and PostgreSQL;
#         router→DOM latency in Chromium
#
#   scripts/bench.sh            everything, at full size (about 15 minutes here)
#   scripts/bench.sh --quick    the scale table once on small sizes, both databases: keeps the
#                               code paths working (CI runs it); its numbers mean nothing
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
source scripts/env.sh

if [ "$quick" -eq 1 ]; then
    cargo bench --features ssr --bench scale -- --quick
    # The PostgreSQL run reads the cluster's address from BENCH_POSTGRES.
    scripts/with-postgres.sh bash -c 'BENCH_POSTGRES=$BEACON_TEST_POSTGRES cargo bench --features ssr --bench scale -- --quick'
    exit 0
fi

scripts/setup.sh --with-browser
cargo leptos build --release
cargo bench --features ssr --bench scale
scripts/with-postgres.sh bash -c 'BENCH_POSTGRES=$BEACON_TEST_POSTGRES cargo bench --features ssr --bench scale'
printf '\nrelease WASM bundle, gzipped: %s bytes (target ≤ 300 KB)\n' "$(gzip -9 -c target/site/pkg/beacon.wasm | wc -c)"
cargo bench --features ssr --bench retry
scripts/with-postgres.sh bash -c 'BENCH_POSTGRES=$BEACON_TEST_POSTGRES cargo bench --features ssr --bench retry'
LIVE_EXECUTIONS=30000 cargo bench --features ssr --bench live
scripts/with-postgres.sh bash -c 'BENCH_POSTGRES=$BEACON_TEST_POSTGRES LIVE_EXECUTIONS=30000 cargo bench --features ssr --bench live'
(cd end2end && npx playwright test --config playwright.bench.config.ts --reporter=line)
