#!/usr/bin/env bash
# PostgreSQL restarted under load: two `tessera serve` nodes on one database take a steady
# stream of code verifications while PostgreSQL restarts. Passes when no request hangs past the
# server's 30 s timeout, both nodes serve again without being restarted, and every verification
# they acknowledged is in the database (see crates/bench/src/pg_restart.rs).
#
#   scripts/pg-restart-test.sh             # fast shutdown (clients disconnected)
#   PG_RESTART_MODE=immediate scripts/pg-restart-test.sh   # like a crash of PostgreSQL
#
# It runs its own throwaway PostgreSQL cluster (initdb in a temporary folder, 127.0.0.1:54329)
# and restarts only that one, so nobody else's database on this machine is disturbed. Needs the
# PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin); as root it runs them as the
# postgres user.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

port="${PG_RESTART_PORT:-54329}"
mode="${PG_RESTART_MODE:-fast}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi
as_user=""
[ "$(id -u)" = 0 ] && as_user="runuser -u postgres --"
as_pg() { $as_user "$@"; }

dir="$(mktemp -d /tmp/tessera-pg-restart.XXXXXX)"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() {
  as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null

echo "== building tessera and tessera-bench (release)"
cargo build --release -p tessera -p tessera-bench
target="${CARGO_TARGET_DIR:-target}/release"

echo "== load, restart, check"
"$target/tessera-bench" pg-restart \
  --tessera "$target/tessera" \
  --database-url "postgres://postgres@127.0.0.1:$port/postgres" \
  --restart-cmd "$as_user '$bin/pg_ctl' -D '$dir/data' -m $mode -w restart >/dev/null"
