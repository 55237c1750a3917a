#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: initdb into a temporary folder, start it
# on a free loopback port, export BEACON_TEST_POSTGRES=postgres://beacon@127.0.0.1:PORT, run
# the command, then stop the cluster and delete the folder, whatever the command's outcome.
#   scripts/with-postgres.sh cargo test --features ssr --test api
set -euo pipefail

initdb_path=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | tail -n 1 || true)
if [ -z "$initdb_path" ]; then
    echo "PostgreSQL server binaries not found (initdb); install Debian's postgresql package" >&2
    exit 1
fi
pg_bin=$(dirname "$(readlink -f "$initdb_path")")
dir=$(mktemp -d /tmp/beacon-pg.XXXXXX)
# A free loopback port: one that nothing answers on.
port=
for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
        port=$candidate
        break
    fi
done
[ -n "$port" ] || { echo "no free port found" >&2; exit 1; }

# PostgreSQL refuses to run as root: run the cluster as the postgres user then.
run_as=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
    run_as=(runuser -u postgres --)
fi

stop() {
    "${run_as[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT

"${run_as[@]}" "$pg_bin/initdb" -D "$dir/data" -U beacon --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
# fsync off: a test cluster that is thrown away need not survive a power cut.
"${run_as[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null
echo "==> throwaway PostgreSQL on 127.0.0.1:$port"
export BEACON_TEST_POSTGRES="postgres://beacon@127.0.0.1:$port"
"$@"
