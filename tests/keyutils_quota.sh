#!/usr/bin/env bash
# The kernel keyring's quota, for real: as an unprivileged user (root's
# quota is far larger), `credential-process` fetches role credentials for
# more roles than fit in the default 20,000 bytes. Each fetch must succeed,
# keyless must say it evicted the soonest-expiring role items, and the
# user's keys must stay within the quota. Needs root (useradd, runuser)
# and keyutils; run by tests/run after the suite.
#
#   bash tests/keyutils_quota.sh [path/to/keyless]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "keyutils_quota: SKIPPED: needs root to run keyless as an unprivileged user" >&2
    exit 0
fi
built=${1:-${CARGO_TARGET_DIR:-$PWD/target}/debug/keyless}
user=keyless-quota
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
home=$(getent passwd "$user" | cut -d: -f6)

work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    runuser -u "$user" -- keyctl clear @u >/dev/null 2>&1 || true
    rm -rf "$work" "$home/.aws" "$home/.state"
}
trap cleanup EXIT
chmod 755 "$work"
install -m 755 "$built" "$work/keyless"
install -m 755 "$(dirname "$built")/keyless-full" "$work/keyless-full"

"$work/keyless" dev-server --port 0 --approve-after 0 --accounts 60 --roles Dev \
    2>"$work/server.log" </dev/null &
server=$!
for _ in $(seq 100); do
    grep -q "listening on" "$work/server.log" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/server.log" | head -n1)
[ -n "$url" ] || { echo "keyutils_quota: dev-server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

cat > "$work/run.sh" <<SCRIPT
set -eu
export HOME=$home AWS_CONFIG_FILE=$home/.aws/config XDG_STATE_HOME=$home/.state
export KEYLESS_STORE=keyutils KEYLESS_KEYRING_NAMESPACE=quota
export AWS_ENDPOINT_URL_SSO=$url AWS_ENDPOINT_URL_SSO_OIDC=$url
unset DBUS_SESSION_BUS_ADDRESS
mkdir -p -m 700 $home/.aws
printf '[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\n' > $home/.aws/config
$work/keyless -q login --sso-session corp --no-browser
$work/keyless -q profiles sync --sso-session corp
failed=0
for p in \$(sed -n 's/^\[profile \(.*\)\]\$/\1/p' $home/.aws/config); do
    KEYLESS_LOG=info $work/keyless credential-process --profile "\$p" >/dev/null 2>>$work/log || failed=\$((failed+1))
done
echo "failed=\$failed"
SCRIPT
chmod 644 "$work/run.sh"
touch "$work/log" && chmod 666 "$work/log"
out=$(runuser -u "$user" -- sh "$work/run.sh")
uid=$(id -u "$user")
usage=$(awk -v u="$uid:" '$1 == u {print $4, $5}' /proc/key-users)
maxbytes=$(cat /proc/sys/kernel/keys/maxbytes)
evictions=$(grep -c "quota exceeded; removed the soonest-expiring" "$work/log" || true)
echo "keyutils_quota: $out; keys/bytes in use $usage (maxbytes $maxbytes); $evictions eviction(s)"
[ "$out" = "failed=0" ] || { echo "keyutils_quota: FAIL: a fetch failed" >&2; grep -v INFO "$work/log" >&2 || true; exit 1; }
[ "$evictions" -gt 0 ] || { echo "keyutils_quota: FAIL: the quota was never reached (maxbytes $maxbytes?)" >&2; exit 1; }
echo "keyutils_quota: ok"
