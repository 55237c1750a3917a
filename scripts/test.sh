#!/usr/bin/env bash
# Command 2: install what is missing (Chromium and Playwright too), then run every test: the
# cargo tests (unit, and integration with real servers on loopback, on SQLite and again on a
# throwaway PostgreSQL cluster) and the Playwright suite in
# Chromium against the release build. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-browser
source scripts/env.sh

# A one-off build gains nothing from incremental state, which would double the disk it needs.
export CARGO_INCREMENTAL=0
printf '\n==> formatting and lints, for the server and for the browser\n'
cargo fmt --check
cargo clippy --lib --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings
export RUSTFLAGS="--cfg erase_components"
cargo clippy --features ssr --all-targets -- -D warnings

printf '\n==> cargo tests (unit, and integration on SQLite)\n'
cargo test --features ssr

printf '\n==> integration tests on PostgreSQL (a throwaway cluster), with two Beacon processes\n'
scripts/with-postgres.sh cargo test --features ssr --test api
unset RUSTFLAGS

printf '\n==> release build (the browser tests run against it: a broken wasm-opt only shows there)\n'
cargo leptos build --release

printf '\n==> benchmarks, once on small sizes (they keep their code paths working; CI times nothing)\n'
scripts/bench.sh --quick

printf '\n==> browser tests (Playwright, Debian Chromium)\n'
cd end2end
npx playwright test
