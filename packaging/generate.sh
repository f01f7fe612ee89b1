#!/bin/sh
# Writes the Homebrew formula, the Scoop manifest and the winget manifests
# of a release from their templates (packaging/*/*.in), the one version in
# Cargo.toml and the release's SHA256SUMS. Nothing in them is edited by hand.
#
#   packaging/generate.sh --base-url URL [--homepage URL] [--sums FILE] [--out DIR]
#
#   --base-url URL   where the release's files are published, e.g. the
#                    release page's download address for vVERSION
#   --homepage URL   the project's page (default: --base-url)
#   --sums FILE      the release's SHA256SUMS (default: dist/SHA256SUMS);
#                    it must list keyless-VERSION.tar.gz (the source) and
#                    keyless-VERSION-x86_64-pc-windows-msvc.zip
#   --out DIR        default: dist/packaging
set -eu
cd "$(dirname "$0")/.."

prog=packaging/generate.sh
base_url=
homepage=
sums=dist/SHA256SUMS
out=dist/packaging
usage() {
    echo "usage: $prog --base-url URL [--homepage URL] [--sums FILE] [--out DIR]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case $1 in
        --base-url) base_url=${2%/} ;;
        --homepage) homepage=$2 ;;
        --sums) sums=$2 ;;
        --out) out=$2 ;;
        *) usage ;;
    esac
    shift 2
done
[ -n "$base_url" ] || usage
case $base_url in https://*) ;; *) echo "$prog: --base-url must be an https:// address" >&2; exit 2 ;; esac
homepage=${homepage:-$base_url}

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
[ -n "$version" ] || { echo "$prog: no version in Cargo.toml" >&2; exit 1; }
# Homebrew wants a short description without the name or a full stop.
description="Short-lived AWS credentials from IAM Identity Center, kept in the OS keyring"

[ -f "$sums" ] || { echo "$prog: no $sums; run packaging/build.sh first" >&2; exit 1; }
sha_of() {
    s=$(awk -v n="$1" '$2 == n || $2 == "*" n { print $1 }' "$sums")
    case $s in
        [0-9a-f]*) [ ${#s} -eq 64 ] && { echo "$s"; return; } ;;
    esac
    echo "$prog: $sums has no SHA-256 of $1; add the file's line (sha256sum FILE >> $sums)" >&2
    exit 1
}
source_sha=$(sha_of "keyless-$version.tar.gz")
windows_sha=$(sha_of "keyless-$version-x86_64-pc-windows-msvc.zip")
windows_sha_upper=$(echo "$windows_sha" | tr 'a-f' 'A-F')

render() { # TEMPLATE OUTPUT
    mkdir -p "$(dirname "$2")"
    sed -e "s|@VERSION@|$version|g" \
        -e "s|@BASE_URL@|$base_url|g" \
        -e "s|@HOMEPAGE@|$homepage|g" \
        -e "s|@DESCRIPTION@|$description|g" \
        -e "s|@SOURCE_SHA256@|$source_sha|g" \
        -e "s|@WINDOWS_SHA256@|$windows_sha|g" \
        -e "s|@WINDOWS_SHA256_UPPER@|$windows_sha_upper|g" \
        "$1" >"$2.tmp"
    if grep -n '@[A-Z0-9_]*@' "$2.tmp" >&2; then
        echo "$prog: $1 has a placeholder that $prog does not fill" >&2
        rm -f "$2.tmp"
        exit 1
    fi
    mv "$2.tmp" "$2"
}

render packaging/homebrew/keyless.rb.in "$out/homebrew/keyless.rb"
render packaging/scoop/keyless.json.in "$out/scoop/keyless.json"
winget=$out/winget/manifests/k/Keyless/Keyless/$version
for t in packaging/winget/*.yaml.in; do
    f=${t##*/}
    render "$t" "$winget/${f%.in}"
done
echo "$prog: keyless $version: $out/homebrew/keyless.rb, $out/scoop/keyless.json, $winget/" >&2
