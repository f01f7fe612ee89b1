#!/bin/sh
# keyless rollout script for macOS and Linux (POSIX sh).
#
# A platform team sets the four values below once and sends this script to
# developers. It finds keyless (or installs it from a release tarball you
# host), runs `keyless onboard`, and prints the result. The environment
# overrides each value, e.g. KEYLESS_SSO_REGION=eu-west-1 sh onboard.sh
#
# Usage: sh onboard.sh [--dry-run] [--yes]
#   --dry-run  show what would change on this machine; change nothing
#   --yes      retire every static key a new profile replaces, without asking
#
# Exit codes (for fleet tooling):
#   0  onboarded (or, with --dry-run, nothing went wrong)
#   1  keyless ran and failed (its message says why)
#   2  this script is not configured, or was called wrongly
#   3  keyless is not installed and could not be installed
set -eu

# ---- set these once for your organisation ---------------------------------
START_URL="${KEYLESS_START_URL:-https://d-1234567890.awsapps.com/start}"
SSO_REGION="${KEYLESS_SSO_REGION:-us-east-1}"
DEFAULT_REGION="${KEYLESS_DEFAULT_REGION:-}"
DEFAULT_TEMPLATE="{account_name}-{role_name}"
PROFILE_TEMPLATE="${KEYLESS_PROFILE_TEMPLATE:-$DEFAULT_TEMPLATE}"
# "pkce" signs everyone in with the browser (authorization code) and
# records keyless_login = pkce in the sso-session; empty: device code.
LOGIN="${KEYLESS_LOGIN:-}"
# Where to get keyless when it is missing: a release tarball and its
# SHA-256 (both from your internal mirror). Empty: do not install.
TARBALL_URL="${KEYLESS_TARBALL_URL:-}"
TARBALL_SHA256="${KEYLESS_TARBALL_SHA256:-}"
# ----------------------------------------------------------------------------

say() { printf 'onboard: %s\n' "$*" >&2; }

dry_run=""
yes=""
for arg in "$@"; do
    case "$arg" in
        --dry-run) dry_run="--dry-run" ;;
        --yes|-y) yes="--yes" ;;
        -h|--help) sed -n '2,20p' "$0" >&2; exit 0 ;;
        *) say "unknown option '$arg' (use --dry-run or --yes)"; exit 2 ;;
    esac
done

case "$START_URL" in
    https://*|http://*) ;;
    *) say "START_URL is not set to your AWS access portal URL: edit this script or set KEYLESS_START_URL"; exit 2 ;;
esac
if [ -z "$SSO_REGION" ]; then
    say "SSO_REGION is empty: edit this script or set KEYLESS_SSO_REGION"
    exit 2
fi

find_keyless() {
    if command -v keyless >/dev/null 2>&1; then
        command -v keyless
    elif [ -x "$HOME/.local/bin/keyless" ]; then
        printf '%s\n' "$HOME/.local/bin/keyless"
    else
        return 1
    fi
}

if ! keyless=$(find_keyless); then
    if [ -z "$TARBALL_URL" ] || [ -z "$TARBALL_SHA256" ]; then
        say "keyless is not installed. Install it (brew install keyless, apt install ./keyless.deb, or packaging/install.sh), then run this again."
        exit 3
    fi
    if [ -n "$dry_run" ]; then
        say "dry run: would download $TARBALL_URL, check its SHA-256 and install keyless into ~/.local"
        exit 0
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    say "downloading keyless from $TARBALL_URL"
    # Downloaded to a file and checked by install.sh; never piped into a shell.
    if ! curl -fsSL -o "$tmp/keyless.tar.gz" "$TARBALL_URL"; then
        say "download failed; check the URL and the network, then run this again"
        exit 3
    fi
    if ! curl -fsSL -o "$tmp/install.sh" "${TARBALL_URL%/*}/install.sh" ||
        ! sh "$tmp/install.sh" --sha256 "$TARBALL_SHA256" "$tmp/keyless.tar.gz"; then
        say "keyless could not be installed (see above)"
        exit 3
    fi
    keyless=$(find_keyless) || { say "keyless was installed but is not on PATH: add ~/.local/bin to PATH"; exit 3; }
fi

say "using $keyless ($("$keyless" --version 2>/dev/null || echo 'unknown version'))"
set -- onboard --start-url "$START_URL" --sso-region "$SSO_REGION" --profile-template "$PROFILE_TEMPLATE"
if [ -n "$DEFAULT_REGION" ]; then
    set -- "$@" --default-region "$DEFAULT_REGION"
fi
case "$LOGIN" in
    pkce) set -- "$@" --pkce ;;
    ""|device) ;;
    *) say "LOGIN must be pkce, device or empty, not '$LOGIN'"; exit 2 ;;
esac
[ -n "$dry_run" ] && set -- "$@" "$dry_run"
[ -n "$yes" ] && set -- "$@" "$yes"

status=0
"$keyless" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    say "keyless onboard failed (exit $status); its message above says what to do"
    [ "$status" -eq 2 ] && exit 2
    exit 1
fi
if [ -n "$dry_run" ]; then
    say "dry run finished: nothing on this machine was changed"
else
    say "done. Check what is left: $keyless scan"
fi
exit 0
