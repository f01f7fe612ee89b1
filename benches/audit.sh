#!/usr/bin/env bash
# `keyless audit` across many accounts: an organisation of N member accounts
# with 5 IAM users (one key each) on a local moto server, audited through
# Organizations ListAccounts + STS AssumeRole, as a platform team would.
#
# Prints accounts per second, the concurrency used, and checks the result:
# every account audited, N*5 active keys.
#
# Usage: benches/audit.sh [--accounts N] [--concurrency N]
#   KEYLESS=path/to/keyless to use a given binary (default: a release build).
# Needs python3 with moto[server] (pip install 'moto[server]').
set -euo pipefail

ACCOUNTS=2000
CONCURRENCY=32
while [ $# -gt 0 ]; do
    case "$1" in
        --accounts) ACCOUNTS="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "audit.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${KEYLESS:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet)
    KEYLESS=$ROOT/target/release/keyless
fi
[ -x "$KEYLESS" ] || { echo "audit.sh: no keyless binary at $KEYLESS" >&2; exit 2; }

WORK=$(mktemp -d)
MOTO_PID=
cleanup() {
    [ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkfifo "$WORK/stdin"
started=$(date +%s.%N)
python3 "$ROOT/benches/audit_moto.py" "$ACCOUNTS" <"$WORK/stdin" >"$WORK/port" 2>"$WORK/moto.log" &
MOTO_PID=$!
exec 3>"$WORK/stdin"   # held open: moto serves until it closes
for _ in $(seq 1 3600); do
    [ -s "$WORK/port" ] && break
    kill -0 "$MOTO_PID" 2>/dev/null || { cat "$WORK/moto.log" >&2; exit 2; }
    sleep 0.5
done
PORT=$(head -n1 "$WORK/port")
[ -n "$PORT" ] || { echo "audit.sh: moto did not start" >&2; exit 2; }
planted=$(date +%s.%N)
echo "planted $ACCOUNTS accounts x 5 users in $(echo "$planted - $started" | bc) s" >&2

printf '[bench]\naws_access_key_id = testing\naws_secret_access_key = testing\n' >"$WORK/credentials"
printf '[profile bench]\nregion = us-east-1\n' >"$WORK/config"

t0=$(date +%s.%N)
set +e
env -i PATH="$PATH" HOME="$WORK" \
    AWS_CONFIG_FILE="$WORK/config" AWS_SHARED_CREDENTIALS_FILE="$WORK/credentials" \
    AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_EC2_METADATA_DISABLED=true \
    "$KEYLESS" audit --profile bench --organization --assume-role-name SecurityAudit \
    --concurrency "$CONCURRENCY" --format json >"$WORK/out.json" 2>"$WORK/err"
code=$?
set -e
t1=$(date +%s.%N)
exec 3>&-

python3 - "$WORK/out.json" "$ACCOUNTS" "$code" "$(echo "$t1 - $t0" | bc)" "$CONCURRENCY" <<'PY'
import json, sys
path, accounts, code, secs, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
snap = json.load(open(path))
ok = sum(1 for a in snap["accounts"] if a["status"] == "ok")
total = len(snap["accounts"])
keys = snap["metrics"]["active_keys"]
print(f"accounts: {total} listed, {ok} audited (exit {code})")
print(f"active keys: {keys} (expected {accounts * 5})")
print(f"time: {secs:.1f} s, concurrency {concurrency}: {total / secs:.1f} accounts/s")
if ok != accounts + 1 or keys != accounts * 5:
    sys.exit("audit.sh: the audit did not see every account and key")
PY
