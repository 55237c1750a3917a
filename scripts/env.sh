# Sourced by the scripts: tool versions and PATH, in one place.
export CARGO_LEPTOS_VERSION=0.3.10
export BINARYEN_VERSION=132.0.0
BEACON_TOOLS="$(pwd)/.tools"
export BEACON_TOOLS
export PATH="$HOME/.cargo/bin:$BEACON_TOOLS/node_modules/.bin:$PATH"
# cargo-leptos builds the server with these; giving `cargo test` the same lets it reuse that
# build instead of compiling everything a second time.
export LEPTOS_OUTPUT_NAME=beacon
