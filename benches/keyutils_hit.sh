#!/usr/bin/env bash
# Median latency of a `keyless credential-process` cache hit through the
# kernel keyring (keyutils), as a whole process, beside `cat` of a JSON
# file of the same size and `secret-tool lookup` of an item of the same
# size in a private gnome-keyring, all in one hyperfine run. keyless runs
# with KEYLESS_STORE=keyutils: the kernel keyring is its store (a hit
# makes no D-Bus connection in any mode).
# Needs: hyperfine, keyutils, dbus, gnome-keyring, libsecret-tools.
#
#   benches/keyutils_hit.sh            # builds the release binary first
#   KEYLESS=path/to/keyless benches/keyutils_hit.sh
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in hyperfine keyctl dbus-daemon dbus-send gnome-keyring-daemon secret-tool; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install hyperfine keyutils dbus gnome-keyring libsecret-tools" >&2; exit 1; }
done
if [ -z "${KEYLESS:-}" ]; then
    cargo build --release --quiet
    KEYLESS=${CARGO_TARGET_DIR:-$PWD/target}/release/keyless
fi

work=$(mktemp -d)
pids=()
export KEYLESS_KEYRING_NAMESPACE=bench-$$
cleanup() {
    "$KEYLESS" logout --all >/dev/null 2>&1 || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# A private bus and keyring, for secret-tool.
mkdir -m 700 "$work/run" "$work/home" "$work/kr"
cat > "$work/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=$work/bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
CONF
dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile --print-address=1 > "$work/address" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/address" ] && break; sleep 0.05; done
bus=$(head -n1 "$work/address")
HOME=$work/kr XDG_RUNTIME_DIR=$work/run DBUS_SESSION_BUS_ADDRESS=$bus \
    sh -c "printf 'bench-password' | exec gnome-keyring-daemon --foreground --unlock --components=secrets" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 200); do
    DBUS_SESSION_BUS_ADDRESS=$bus dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' && break
    sleep 0.05
done

export DBUS_SESSION_BUS_ADDRESS=$bus KEYLESS_STORE=keyutils
export HOME=$work/home XDG_RUNTIME_DIR=$work/run XDG_STATE_HOME=$work/home/.local/state
"$KEYLESS" dev-server --port 0 2> "$work/emulator.log" &
pids+=($!)
for _ in $(seq 200); do grep -q 'http://127.0.0.1:' "$work/emulator.log" && break; sleep 0.05; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/emulator.log" | head -n1)
export AWS_ENDPOINT_URL_SSO=$url AWS_ENDPOINT_URL_SSO_OIDC=$url
export AWS_CONFIG_FILE=$work/home/config AWS_SHARED_CREDENTIALS_FILE=$work/home/credentials
cat > "$AWS_CONFIG_FILE" <<CONF
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1

[profile dev]
credential_process = keyless credential-process --profile dev
keyless_sso_session = corp
keyless_account_id = 111122223333
keyless_role_name = Developer
CONF
"$KEYLESS" login --sso-session corp --no-browser 2>/dev/null
"$KEYLESS" credential-process --profile dev > "$work/creds.json"
keyctl search @u user "keyless:$KEYLESS_KEYRING_NAMESPACE:v1/role/corp/111122223333/Developer" >/dev/null \
    || { echo "the role credentials are not in the kernel keyring" >&2; exit 1; }

# The same size for cat (the JSON keyless prints) and for secret-tool.
size=$(wc -c < "$work/creds.json")
head -c "$size" /dev/zero | tr '\0' 'x' | secret-tool store --label bench service bench username item
echo "credential JSON: $size bytes" >&2

# Instruction counts do not move with the load of a shared machine; they
# count the dynamic loader's relocations too (not page faults). valgrind is
# optional.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
if command -v valgrind >/dev/null; then
    echo "instructions, keyless credential-process: $(instructions "$KEYLESS" credential-process --profile dev)" >&2
    echo "instructions, cat: $(instructions cat "$work/creds.json")" >&2
fi
# The machine may be shared: the load beside the numbers says how far to trust them.
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2
hyperfine --warmup 20 --runs "${RUNS:-300}" -N --export-json "$work/result.json" \
    -n "keyless credential-process (kernel keyring hit)" "$KEYLESS credential-process --profile dev" \
    -n "cat (same size JSON file)" "cat $work/creds.json" \
    -n "secret-tool lookup (same size)" "secret-tool lookup service bench username item" >&2

python3 - "$work/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
k, c, s = (x["median"] * 1000 for x in r)
print(f"median keyless credential-process, kernel keyring hit: {k:.2f} ms")
print(f"median cat of a same-size JSON file:                  {c:.2f} ms")
print(f"median secret-tool lookup (same size item):           {s:.2f} ms")
print(f"ratio keyless / cat: {k / c:.2f}x (goal <= 2x)")
PY
