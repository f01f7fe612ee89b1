#!/usr/bin/env bash
# Median latency of `keyless prompt` as a whole process, beside /bin/true in
# the same hyperfine run. The prompt reads a state file with a few roles and
# (for a profile the state does not name) the config file. Needs hyperfine.
#
#   benches/prompt.sh            # builds the release binary first
#   KEYLESS=path/to/keyless benches/prompt.sh
set -euo pipefail
cd "$(dirname "$0")/.."

command -v hyperfine >/dev/null || { echo "missing hyperfine: apt-get install hyperfine" >&2; exit 1; }
if [ -z "${KEYLESS:-}" ]; then
    cargo build --release --quiet
    KEYLESS=${CARGO_TARGET_DIR:-$PWD/target}/release/keyless
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state"
now=$(date +%s)
cat > "$work/state/state.json" <<JSON
{
  "version": 1,
  "sessions": {"corp": {"start_url": "https://d-1234567890.awsapps.com/start", "region": "us-east-1",
                        "token_expires_at": $((now + 28800)), "refreshable": true}},
  "roles": [
    {"session": "corp", "account_id": "111122223333", "role_name": "Admin", "profiles": ["admin"], "expiration": $((now + 600))},
    {"session": "corp", "account_id": "111122223333", "role_name": "Developer", "profiles": ["dev"], "expiration": $((now + 2550))},
    {"session": "corp", "account_id": "444455556666", "role_name": "ReadOnly", "expiration": $((now + 3630))}
  ]
}
JSON
cat > "$work/config" <<CONF
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1

[profile dev]
credential_process = keyless credential-process --profile dev
keyless_sso_session = corp
keyless_account_id = 111122223333
keyless_role_name = Developer

[profile ro]
credential_process = keyless credential-process --profile ro
keyless_sso_session = corp
keyless_account_id = 444455556666
keyless_role_name = ReadOnly
CONF
export KEYLESS_STATE_DIR=$work/state AWS_CONFIG_FILE=$work/config AWS_PROFILE=dev
[ "$("$KEYLESS" prompt)" = "dev 42m" ] || { echo "unexpected segment" >&2; exit 1; }
[ "$("$KEYLESS" prompt --profile ro)" = "ro 1h00m" ] || { echo "unexpected segment" >&2; exit 1; }

# Instruction counts do not move with the load of a shared machine; they
# count the dynamic loader's relocations too (not page faults). valgrind is
# optional.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
if command -v valgrind >/dev/null; then
    echo "instructions, /bin/true: $(instructions /bin/true)"
    echo "instructions, keyless prompt (state): $(instructions "$KEYLESS" prompt --color --shell bash)"
    echo "instructions, keyless prompt (state + config): $(instructions "$KEYLESS" prompt --profile ro)"
fi
# The machine may be shared: the load beside the numbers says how far to trust them.
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
# -N: no intermediate shell, so each run is exactly one process.
hyperfine -N --warmup 50 --runs "${RUNS:-1000}" \
    --export-json "$work/result.json" \
    -n true /bin/true \
    -n 'keyless prompt (state)' "$KEYLESS prompt --color --shell bash" \
    -n 'keyless prompt (state + config)' "$KEYLESS prompt --profile ro"

python3 - "$work/result.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = results[0]["median"]
for r in results:
    print(f"{r['command']:34} median {r['median'] * 1000:6.3f} ms  {r['median'] / base:4.2f}x /bin/true")
PY
