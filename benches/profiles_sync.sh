#!/usr/bin/env bash
# `keyless profiles sync` against the local emulator with 2,000 accounts of
# 3 roles each (6,000 profiles), with 10% of ListAccountRoles calls
# throttled (429 TooManyRequestsException). Each run starts from the same
# config with the sso-session only, so every run discovers and writes all
# 6,000 profiles; a last run on the written file must change no byte.
# Needs: hyperfine, curl, python3, keyutils.
#
#   benches/profiles_sync.sh                 # builds the release binary first
#   KEYLESS=target/debug/keyless benches/profiles_sync.sh
#   ACCOUNTS=500 RUNS=5 benches/profiles_sync.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ACCOUNTS=${ACCOUNTS:-2000}
RUNS=${RUNS:-3}
for tool in hyperfine curl python3 keyctl; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install hyperfine curl python3 keyutils" >&2; exit 1; }
done
if [ -z "${KEYLESS:-}" ]; then
    cargo build --release --quiet
    KEYLESS=${CARGO_TARGET_DIR:-$PWD/target}/release/keyless
fi
KEYLESS=$(realpath "$KEYLESS")

work=$(mktemp -d)
server=""
export HOME=$work/home AWS_CONFIG_FILE=$work/home/.aws/config
export AWS_SHARED_CREDENTIALS_FILE=$work/home/.aws/credentials XDG_STATE_HOME=$work/home/.state
export KEYLESS_STORE=keyutils KEYLESS_KEYRING_NAMESPACE=bench-$$
unset AWS_PROFILE
cleanup() {
    "$KEYLESS" logout --all >/dev/null 2>&1 || true
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p -m 700 "$work/home/.aws"

"$KEYLESS" dev-server --port 0 --approve-after 0 --accounts "$ACCOUNTS" \
    --roles Developer,ReadOnly,Admin 2>"$work/server.log" </dev/null &
server=$!
for _ in $(seq 100); do
    grep -q "listening on" "$work/server.log" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/server.log" | head -n1)
[ -n "$url" ] || { echo "dev-server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
export AWS_ENDPOINT_URL_SSO=$url AWS_ENDPOINT_URL_SSO_OIDC=$url

cat > "$work/config.orig" <<CONF
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
CONF
cp "$work/config.orig" "$AWS_CONFIG_FILE"
"$KEYLESS" login --sso-session corp --no-browser >/dev/null 2>&1
# Every tenth ListAccountRoles call is throttled, however many runs.
curl -fsS -X POST "$url/_keyless/faults" -H 'content-type: application/json' \
    -d '{"operation":"ListAccountRoles","kind":"throttle","every":10,"count":1000000}' >/dev/null

echo "profiles sync: $ACCOUNTS accounts x 3 roles, 10% of ListAccountRoles throttled; $(basename "$(dirname "$KEYLESS")") build; load $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine --runs "$RUNS" --prepare "cp $work/config.orig $AWS_CONFIG_FILE" \
    --export-json "$work/result.json" \
    "$KEYLESS -q profiles sync --sso-session corp"

profiles=$(grep -c '^\[profile ' "$AWS_CONFIG_FILE")
expected=$((ACCOUNTS * 3))
cp "$AWS_CONFIG_FILE" "$work/written"
"$KEYLESS" -q profiles sync --sso-session corp
cmp -s "$work/written" "$AWS_CONFIG_FILE" || { echo "FAIL: a second sync changed the file" >&2; exit 1; }
stats=$(curl -fsS "$url/_keyless/stats")
python3 - "$work/result.json" "$profiles" "$expected" "$stats" <<'PY'
import json, sys
result, profiles, expected, stats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
times = json.load(open(result))["results"][0]["times"]
roles = stats["operations"]["ListAccountRoles"]
print(f"wall: median {sorted(times)[len(times)//2]:.2f} s, min {min(times):.2f} s, max {max(times):.2f} s")
print(f"ListAccountRoles: {roles['calls']} calls, {roles['errors'].get('TooManyRequestsException', 0)} throttled (all runs)")
print(f"profiles written: {profiles} of {expected}; a second sync changed no byte")
sys.exit(0 if profiles == expected else 1)
PY
