#!/usr/bin/env bash
# Makes the upgrade fixture: a small SQLite database written by a released `tessera` binary,
# which the tests of every later release open, migrate and sign in to
# (crates/cli/tests/cli/upgrade.rs). Run it with each release's binary and commit the result:
#
#   scripts/make-upgrade-fixture.sh target/release/tessera crates/cli/tests/fixtures/release-0.2
#
# What it makes, through the binary's own command line and HTTP API (nothing written by hand):
#   - admin@example.org (an admin), alice@example.org, bob@example.org, with known passwords;
#   - alice: an authenticator (TOTP) method registered and verified with a code, whose seed is
#     recorded in fixture.json, and a set of recovery codes (one recorded);
#   - a policy change: lockout_threshold=7 and phone_countries=NL,BE;
#   - master.key: a TEST key made for this fixture only. It protects nothing real.
#
# Needs: bash, curl, jq. The server runs on 127.0.0.1 on a free port and is stopped at the end.
set -euo pipefail

bin=${1:?usage: $0 TESSERA_BINARY OUTPUT_DIR}
out=${2:?usage: $0 TESSERA_BINARY OUTPUT_DIR}
bin=$(realpath "$bin")

# The developer's shell may hold configuration; the fixture must not pick it up.
for v in TESSERA_CONFIG TESSERA_LISTEN TESSERA_DATA_DIR TESSERA_DATABASE_URL \
    TESSERA_DATABASE_URL_FILE TESSERA_MASTER_KEY_FILE TESSERA_PUBLIC_URL \
    TESSERA_ORGANIZATION TESSERA_LOG_FORMAT; do
    unset "$v"
done

work=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

data=$work/data
admin_password='Quartz meadow lantern 41'
alice_password='Copper harbor violin 73'
bob_password='Silent orchard bicycle 58'

version=$("$bin" --version | awk '{print $2}')
echo "making the upgrade fixture with tessera $version"

"$bin" user add admin@example.org --admin --display-name 'Ada Admin' --password-stdin \
    --data-dir "$data" <<<"$admin_password" >/dev/null
"$bin" user add alice@example.org --display-name 'Alice' --password-stdin \
    --data-dir "$data" <<<"$alice_password" >/dev/null
"$bin" user add bob@example.org --display-name 'Bob' --password-stdin \
    --data-dir "$data" <<<"$bob_password" >/dev/null
"$bin" policy set lockout_threshold=7 phone_countries=NL,BE --data-dir "$data" >/dev/null

# `serve` on a free port: port 0, and the listening line says which.
"$bin" serve --listen 127.0.0.1:0 --data-dir "$data" >"$work/serve.out" 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 300); do
    url=$(sed -n 's/^tessera listening on \(http:[^ ]*\).*/\1/p' "$work/serve.out" | head -n1)
    [ -n "$url" ] && break
    sleep 0.2
done
[ -n "${url:-}" ] || { cat "$work/serve.log" >&2; echo "the server did not start" >&2; exit 1; }

api() { # METHOD PATH [JSON] — with $token as the bearer when set
    local auth=()
    [ -n "${token:-}" ] && auth=(-H "Authorization: Bearer $token")
    curl -sS --fail-with-body -X "$1" "$url/api/v1$2" -H 'Content-Type: application/json' \
        "${auth[@]}" ${3:+--data "$3"}
}

token=
signed=$(api POST /sign-in "$(jq -n --arg p "$alice_password" '{username: "alice@example.org", password: $p}')")
status=$(jq -r .status <<<"$signed")
[ "$status" = registration_required ] || { echo "expected registration_required, got $signed" >&2; exit 1; }
token=$(jq -r .session <<<"$signed")
flow=$(jq -r .flow <<<"$signed")

method=$(api POST /me/security-info/methods '{"kind": "authenticator_code", "name": "Phone"}')
method_id=$(jq -r .id <<<"$method")
secret=$(jq -r .secret <<<"$method")
otpauth=$(jq -r .otpauth_uri <<<"$method")

# The release's own reference authenticator computes the code.
"$bin" authenticator --state "$work/authenticator.json" add-otpauth "$otpauth" >/dev/null
code=$("$bin" authenticator --state "$work/authenticator.json" code | grep -oE '[0-9]{6}' | head -n1)
api POST "/me/security-info/methods/$method_id/verify" "$(jq -n --arg c "$code" '{code: $c}')" >/dev/null

# Registration is complete: the flow hands out a full session.
full=$(api GET "/sign-in/$flow")
[ "$(jq -r .status <<<"$full")" = signed_in ] || { echo "sign-in did not complete: $full" >&2; exit 1; }
token=$(jq -r .session <<<"$full")
recovery=$(api POST /me/security-info/methods '{"kind": "recovery_codes"}' || true)
recovery_code=$(jq -r '.codes[0] // empty' <<<"$recovery" 2>/dev/null || true)
api POST /sign-out >/dev/null || true

# SIGTERM: a graceful stop folds the WAL into the database file.
kill -TERM "$server"
wait "$server" || true
server=

schema=$(sqlite3 "$data/tessera.db" 'SELECT MAX(version) FROM _sqlx_migrations' 2>/dev/null || echo unknown)

mkdir -p "$out"
cp "$data/tessera.db" "$out/tessera.db"
cp "$data/master.key" "$out/master.key"
chmod 600 "$out/master.key" "$out/tessera.db"
jq -n \
    --arg version "$version" \
    --arg schema "$schema" \
    --arg admin "$admin_password" \
    --arg alice "$alice_password" \
    --arg bob "$bob_password" \
    --arg method "$method_id" \
    --arg secret "$secret" \
    --arg recovery "$recovery_code" \
    '{
      "note": "A TEST fixture: master.key and these passwords protect nothing real. Made by scripts/make-upgrade-fixture.sh.",
      "tessera_version": $version,
      "schema_version": ($schema | tonumber? // $schema),
      "accounts": [
        {"username": "admin@example.org", "password": $admin, "admin": true},
        {"username": "alice@example.org", "password": $alice, "admin": false,
         "totp": {"method_id": $method, "secret": $secret, "digits": 6, "step_secs": 30},
         "recovery_code": (if $recovery == "" then null else $recovery end)},
        {"username": "bob@example.org", "password": $bob, "admin": false}
      ],
      "policy": {"lockout_threshold": 7, "phone_countries": ["NL", "BE"]}
    }' >"$out/fixture.json"
echo "wrote $out (schema $schema)"
