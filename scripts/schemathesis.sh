#!/usr/bin/env bash
# schemathesis against the OpenAPI document a real server serves: every operation with
# generated valid and invalid input; fails on any 5xx and on any response that does not match
# the document (status, content type, body schema).
#
#   scripts/schemathesis.sh                 # 25 examples per operation
#   ST_EXAMPLES=200 scripts/schemathesis.sh
#   TESSERA_BIN=target/release/tessera scripts/schemathesis.sh
#
# Installs schemathesis from PyPI when it is missing. Uses SQLite in a temporary folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

examples="${ST_EXAMPLES:-25}"
if ! command -v schemathesis >/dev/null 2>&1; then
  echo "== installing schemathesis"
  python3 -m pip install --quiet 'schemathesis>=4,<5'
fi
bin="${TESSERA_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --quiet -p tessera
  bin="${CARGO_TARGET_DIR:-target}/debug/tessera"
fi

dir="$(mktemp -d /tmp/tessera-schemathesis.XXXXXX)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

password="schemathesis: correct horse battery staple"
printf '%s' "$password" | "$bin" user add alice@example.org --admin --password-stdin --data-dir "$dir" >/dev/null
# Signed in with the password alone, so every operation can be reached with one token.
"$bin" policy set registration_required=false --data-dir "$dir" >/dev/null

# A flood from one address is what this is; the per-address limit would answer it.
TESSERA_SIGN_IN_LIMIT_PER_MINUTE=0 RUST_LOG=warn \
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$dir" >"$dir/stdout" 2>"$dir/stderr" &
server=$!
base=""
for _ in $(seq 1 100); do
  base="$(sed -n 's/^tessera listening on //p' "$dir/stdout" | head -n 1)"
  [ -n "$base" ] && break
  sleep 0.2
done
if [ -z "$base" ]; then
  echo "the server did not start:" >&2
  cat "$dir/stderr" >&2
  exit 1
fi

token="$(curl -fsS "$base/api/v1/sign-in" -H 'content-type: application/json' \
  --data "$(printf '{"username":"alice@example.org","password":"%s"}' "$password")" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["session"])')"

echo "== schemathesis: $examples examples per operation against $base"
# Signing out, or changing the password (which ends every session), would end the one session
# every other operation uses.
schemathesis run "$base/api/v1/openapi.json" \
  --url "$base/api/v1" \
  --header "Authorization: Bearer $token" \
  --exclude-path /sign-out \
  --exclude-path /me/password \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$examples" \
  --seed 1 \
  --no-color \
  --report-dir "$dir/report"
echo "== server log (warnings and errors)"
cat "$dir/stderr"
if grep -q "ERROR" "$dir/stderr"; then
  echo "the server logged errors" >&2
  exit 1
fi
