#!/bin/sh
# Installs a keyless release tarball into a prefix, after checking its
# SHA-256.
#
#   install.sh [--prefix DIR] [--sha256 HEX] [TARBALL]
#
#   --prefix DIR   where to install (default: ~/.local): DIR/bin/keyless,
#                  the man page, completions and shell snippets under
#                  DIR/share
#   --sha256 HEX   the tarball's expected SHA-256; without it, the
#                  SHA256SUMS file beside the tarball must list it
#   TARBALL        a local keyless-VERSION-TARGET.tar.gz, or an https://
#                  address of one (downloaded with its SHA256SUMS to a
#                  temporary directory first); default: the one for this
#                  machine in the current directory
#
# A tarball whose checksum does not match, or that is for another OS or
# architecture, is refused before anything is written to the prefix.
# Nothing is ever piped into a shell: download this script, read it, then
# run it.
set -eu

prog=install.sh
prefix=${HOME:?HOME is not set; pass --prefix DIR}/.local
sha256=
tarball=

die() {
    printf '%s: %s\n' "$prog" "$1" >&2
    exit "${2:-1}"
}

usage() {
    printf 'usage: %s [--prefix DIR] [--sha256 HEX] [TARBALL]\n' "$prog" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
        --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --sha256) [ $# -ge 2 ] || usage; sha256=$2; shift 2 ;;
        --sha256=*) sha256=${1#--sha256=}; shift ;;
        -h | --help)
            sed -n '2,20s/^# \{0,1\}//p' "$0"
            exit 0
            ;;
        -*) printf '%s: unknown option %s\n' "$prog" "$1" >&2; usage ;;
        *) [ -z "$tarball" ] || usage; tarball=$1; shift ;;
    esac
done
[ -n "$prefix" ] || die "--prefix needs a directory" 2
if [ -n "$sha256" ]; then
    sha256=$(printf '%s' "$sha256" | tr 'A-F' 'a-f')
    case $sha256 in
        *[!0-9a-f]*) die "--sha256 takes 64 hexadecimal digits, got '$sha256'" 2 ;;
    esac
    [ ${#sha256} -eq 64 ] || die "--sha256 takes 64 hexadecimal digits, got ${#sha256}" 2
fi

# The release target of this machine, as in the tarball's name.
case $(uname -s) in
    Linux) os=unknown-linux-gnu ;;
    Darwin) os=apple-darwin ;;
    *) die "no release tarball for $(uname -s); build from source: cargo install --locked --path ." ;;
esac
case $(uname -m) in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "no release tarball for $(uname -m); build from source: cargo install --locked --path ." ;;
esac
target=$arch-$os

work=$(mktemp -d "${TMPDIR:-/tmp}/keyless-install.XXXXXX") || die "cannot make a temporary directory; set TMPDIR to a writable one"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

digest() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    elif command -v openssl >/dev/null 2>&1; then
        openssl dgst -sha256 "$1" | sed 's/.*= *//'
    else
        die "no SHA-256 tool (sha256sum, shasum or openssl); install coreutils"
    fi
}

download() { # URL FILE
    if command -v curl >/dev/null 2>&1; then
        curl --proto '=https' --tlsv1.2 -fsSL -o "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1"
    else
        die "neither curl nor wget to download $1; download it yourself and pass the file"
    fi
}

case $tarball in
    https://*)
        name=${tarball##*/}
        download "$tarball" "$work/$name" || die "could not download $tarball"
        if [ -z "$sha256" ]; then
            download "${tarball%/*}/SHA256SUMS" "$work/SHA256SUMS" ||
                die "could not download ${tarball%/*}/SHA256SUMS; pass --sha256 HEX from the release page"
        fi
        tarball=$work/$name
        ;;
    http://* | ftp://*)
        die "only https:// downloads are accepted: $tarball" 2
        ;;
    '')
        set -- keyless-*-"$target".tar.gz
        if [ $# -ne 1 ] || [ ! -f "$1" ]; then
            die "no single keyless-VERSION-$target.tar.gz in $(pwd); pass the tarball to install"
        fi
        tarball=$1
        ;;
esac
[ -f "$tarball" ] || die "$tarball: no such file"
case $tarball in
    /*) ;;
    *) tarball=$(pwd)/$tarball ;;
esac
name=${tarball##*/}

case $name in
    keyless-*-"$target".tar.gz) ;;
    keyless-*.tar.gz) die "$name is not for this machine ($target); download keyless-VERSION-$target.tar.gz" ;;
    *) die "$name is not a keyless release tarball (keyless-VERSION-$target.tar.gz)" ;;
esac
top=${name%.tar.gz}

# The checksum, before anything else is done with the tarball.
if [ -z "$sha256" ]; then
    sums=${tarball%/*}/SHA256SUMS
    [ -f "$sums" ] || die "no SHA256SUMS beside $tarball; pass --sha256 HEX from the release page"
    sha256=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$sums" | tr 'A-F' 'a-f')
    [ -n "$sha256" ] || die "$sums does not list $name; pass --sha256 HEX from the release page"
    [ "$(printf '%s\n' "$sha256" | wc -l)" -eq 1 ] || die "$sums lists $name more than once; fetch it again"
fi
actual=$(digest "$tarball")
if [ "$actual" != "$sha256" ]; then
    die "checksum mismatch for $name: expected $sha256, got $actual; nothing was installed. Download it again"
fi

# Only this release's own directory, no absolute paths, no `..`, no links.
tar -tzf "$tarball" >"$work/list" || die "$name is not a readable .tar.gz; download it again"
while IFS= read -r entry; do
    case $entry in
        "$top" | "$top"/ | "$top"/*) ;;
        *) die "$name holds $entry, outside $top/; refusing it" ;;
    esac
    case /$entry/ in
        */../*) die "$name holds $entry; refusing it" ;;
    esac
done <"$work/list"
mkdir "$work/x"
(cd "$work/x" && tar -xzf "$tarball") ||
    die "could not unpack $name; download it again"
src=$work/x/$top
[ -f "$src/bin/keyless" ] || die "$name has no bin/keyless; download it again"
# On Linux, keyless hands every command but its cache hits to keyless-full.
if [ "$(uname -s)" = Linux ] && [ ! -f "$src/bin/keyless-full" ]; then
    die "$name has no bin/keyless-full; download it again"
fi
if [ -n "$(find "$src" -type l -o -type b -o -type c -o -type p)" ]; then
    die "$name holds a link or a special file; refusing it"
fi

# Into the prefix: each file by temporary copy and rename, so a running
# keyless is never half-overwritten.
(cd "$src" && find bin share -type f 2>/dev/null) | while IFS= read -r rel; do
    dest=$prefix/$rel
    mkdir -p "$(dirname "$dest")"
    cp "$src/$rel" "$dest.tmp.$$"
    case $rel in
        bin/*) chmod 755 "$dest.tmp.$$" ;;
        *) chmod 644 "$dest.tmp.$$" ;;
    esac
    mv -f "$dest.tmp.$$" "$dest"
done
[ -x "$prefix/bin/keyless" ] || die "could not install into $prefix; check that it is writable"

version=$("$prefix/bin/keyless" --version 2>/dev/null) || version="keyless (it does not run here: check $prefix/bin/keyless)"
printf '%s: installed %s into %s\n' "$prog" "$version" "$prefix" >&2
# shellcheck disable=SC2016 # $PATH is for the user to type
case :${PATH:-}: in
    *:"$prefix/bin":*) ;;
    *) printf '%s: %s is not on PATH; add it, e.g. export PATH="%s:$PATH"\n' "$prog" "$prefix/bin" "$prefix/bin" >&2 ;;
esac
