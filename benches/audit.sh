#!/usr/bin/env bash
# `keyless audit` across many accounts: an organisation of N member accounts
# with 5 IAM users each, audited through Organizations ListAccounts + STS
# AssumeRole, as a platform team would.
#
# Prints accounts per second, the concurrency, the build profile, the load
# average and the CPU time of keyless and of the server, and checks the
# result against the generated truth: every metric, and which accounts
# could not be entered.
#
# Usage: benches/audit.sh [--accounts N] [--concurrency N] [--server standin|moto]
#   --server standin (default): benches/audit_standin.py, a light stand-in
#     for Organizations, STS and IAM that answers from generated data, with
#     planted findings, a root key in every tenth account and one account in
#     400 whose role cannot be assumed.
#   --server moto: a real moto server (benches/audit_moto.py; 5 users with
#     one fresh key each, only the key count is checked). moto scans every
#     account on each request, so it is the bottleneck above a few hundred
#     accounts.
#   KEYLESS=path/to/keyless to use a given binary (default: a release build
#   in ${CARGO_TARGET_DIR:-target}).
# Needs python3; --server moto needs moto[server] (pip install 'moto[server]').
set -euo pipefail

ACCOUNTS=2000
CONCURRENCY=32
SERVER=standin
while [ $# -gt 0 ]; do
    case "$1" in
        --accounts) ACCOUNTS="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --server) SERVER="$2"; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "audit.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$SERVER" in
    standin|moto) ;;
    *) echo "audit.sh: --server is standin or moto" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${KEYLESS:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet --bin keyless --bin keyless-full)
    KEYLESS=${CARGO_TARGET_DIR:-$ROOT/target}/release/keyless
fi
[ -x "$KEYLESS" ] || { echo "audit.sh: no keyless binary at $KEYLESS" >&2; exit 2; }
case "$KEYLESS" in
    */release/*) PROFILE=release ;;
    */debug/*) PROFILE=debug ;;
    *) PROFILE=unknown ;;
esac

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkfifo "$WORK/stdin"
started=$(date +%s.%N)
if [ "$SERVER" = standin ]; then
    python3 "$ROOT/benches/audit_standin.py" "$ACCOUNTS" --denied-every 400 \
        --people "$WORK/people" <"$WORK/stdin" >"$WORK/port" 2>"$WORK/server.log" &
else
    python3 "$ROOT/benches/audit_moto.py" "$ACCOUNTS" \
        <"$WORK/stdin" >"$WORK/port" 2>"$WORK/server.log" &
fi
SERVER_PID=$!
exec 3>"$WORK/stdin"   # held open: the server serves until it closes
for _ in $(seq 1 3600); do
    [ -s "$WORK/port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 2; }
    sleep 0.5
done
PORT=$(head -n1 "$WORK/port")
[ -n "$PORT" ] || { echo "audit.sh: the $SERVER server did not start" >&2; exit 2; }
planted=$(date +%s.%N)
echo "$SERVER: $ACCOUNTS accounts x 5 users ready in $(echo "$planted - $started" | bc) s" >&2

printf '[bench]\naws_access_key_id = testing\naws_secret_access_key = testing\n' >"$WORK/credentials"
printf '[profile bench]\nregion = us-east-1\n' >"$WORK/config"
EXTRA=()
if [ "$SERVER" = standin ]; then
    EXTRA=(--as-of 2026-12-01 --people "$WORK/people")
fi

load_before=$(cut -d' ' -f1 /proc/loadavg)
TIMEFORMAT='%R %U %S'
set +e
{ time env -i PATH="$PATH" HOME="$WORK" \
    AWS_CONFIG_FILE="$WORK/config" AWS_SHARED_CREDENTIALS_FILE="$WORK/credentials" \
    AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_EC2_METADATA_DISABLED=true \
    "$KEYLESS" audit --profile bench --organization --assume-role-name SecurityAudit \
    --concurrency "$CONCURRENCY" --format json "${EXTRA[@]}" \
    >"$WORK/out.json" 2>"$WORK/err"; } 2>"$WORK/time"
code=$?
set -e
load_after=$(cut -d' ' -f1 /proc/loadavg)
exec 3>&-
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=

python3 - "$WORK" "$SERVER" "$ACCOUNTS" "$code" "$CONCURRENCY" "$PROFILE" \
    "$load_before" "$load_after" <<'PY'
import json, sys
work, server, accounts, code, concurrency, profile, load0, load1 = sys.argv[1:]
accounts, code = int(accounts), int(code)
real, user, system = (float(x) for x in open(f"{work}/time").read().split())
try:
    snap = json.load(open(f"{work}/out.json"))
except ValueError:
    sys.exit(f"audit.sh: no JSON from keyless (exit {code}):\n" + open(f"{work}/err").read())
ok = sum(1 for a in snap["accounts"] if a["status"] == "ok")
total = len(snap["accounts"])
server_cpu = [l for l in open(f"{work}/server.log") if l.startswith("stand-in:")]
print(f"accounts: {total} listed, {ok} audited, {total - ok} could not be entered (exit {code})")
print(f"time: {real:.1f} s wall, keyless CPU {user + system:.1f} s; "
      + (server_cpu[0].strip() if server_cpu else f"{server} server"))
print(f"rate: {total / real:.1f} accounts/s at concurrency {concurrency}, "
      f"{profile} build, load average {load0} before, {load1} after (2 cores)")
problems = []
if server == "standin":
    lines = open(f"{work}/port").read().split("\n")
    truth = json.loads(lines[1])
    if total != truth["accounts"] or ok != truth["audited"]:
        problems.append(f"accounts: {total} listed, {ok} audited; expected "
                        f"{truth['accounts']} and {truth['audited']}")
    for name, want in truth["metrics"].items():
        got = snap["metrics"][name]
        print(f"  {name}: {got} (expected {want})")
        if got != want:
            problems.append(f"{name}: {got}, expected {want}")
    kinds = {}
    for f in snap["findings"]:
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    if sum(kinds.values()) != sum(v for k, v in snap["metrics"].items() if k != "active_keys"):
        problems.append(f"findings by kind {kinds} do not add up to the metrics")
    want_code = 2 if truth["audited"] < truth["accounts"] else 1
    if code != want_code:
        problems.append(f"exit {code}; expected {want_code}")
else:
    keys = snap["metrics"]["active_keys"]
    print(f"  active_keys: {keys} (expected {accounts * 5})")
    if ok != accounts + 1 or keys != accounts * 5:
        problems.append("the audit did not see every account and key")
if problems:
    sys.exit("audit.sh: the audit does not match the truth:\n  " + "\n  ".join(problems))
print("the audit matches the generated truth")
PY
