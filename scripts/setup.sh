#!/usr/bin/env bash
# Installs what building (and, with --with-browser, testing) Beacon needs, skipping whatever
# is already there. Safe to re-run. Works on a fresh Debian machine with rustup and cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

with_browser=0
[[ "${1:-}" == "--with-browser" ]] && with_browser=1

step() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -q
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

if ! command -v cc >/dev/null; then
    step "C compiler (for SQLite and ring)"
    apt_install build-essential
fi

# The test command checks formatting and lints (a minimal rustup profile leaves these out).
for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
        step "$component"
        rustup component add "$component"
    fi
done

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "wasm32 target"
    rustup target add wasm32-unknown-unknown
fi

# cargo-leptos 0.3.11 needs a newer rustc; no_downloads makes it use the tools below
# instead of fetching its own.
if ! cargo leptos --version 2>/dev/null | grep -qx "cargo-leptos $CARGO_LEPTOS_VERSION"; then
    step "cargo-leptos $CARGO_LEPTOS_VERSION (about 20 minutes on 2 cores)"
    cargo install "cargo-leptos@$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly, or the browser bundle
# fails with a schema error. (Not --locked: that resolution fails against the index.)
wasm_bindgen_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wasm_bindgen_version"; then
    step "wasm-bindgen-cli $wasm_bindgen_version (about 9 minutes)"
    cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --force
fi

# The tests start a throwaway PostgreSQL cluster of their own (scripts/with-postgres.sh).
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    step "PostgreSQL server binaries"
    apt_install postgresql
fi

if ! command -v npm >/dev/null; then
    step "Node.js and npm"
    apt_install nodejs npm
fi

# wasm-opt for release builds, from npm's binaryen: Debian's (version 108) produces bundles
# that build but never hydrate.
if ! [ -x "$BEACON_TOOLS/node_modules/.bin/wasm-opt" ]; then
    step "wasm-opt (npm binaryen $BINARYEN_VERSION)"
    mkdir -p "$BEACON_TOOLS"
    npm install --prefix "$BEACON_TOOLS" --no-audit --no-fund "binaryen@$BINARYEN_VERSION"
fi

if [ "$with_browser" -eq 1 ]; then
    if ! [ -x /usr/bin/chromium ]; then
        step "Chromium (Debian's)"
        apt_install chromium
    fi
    if ! [ -d end2end/node_modules/@playwright/test ]; then
        step "Playwright (without its own browser download)"
        (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    fi
fi
step "tools ready"
