#!/bin/sh
# Generates the files that keyless prints itself (man page, completions)
# into the trees the packages are made from:
#
#   OUT/debian/usr/share/...   Debian's paths (the .deb)
#   OUT/generic/share/...      everyone else's (the .rpm, the tarball,
#                              Homebrew, install.sh), relative to a prefix
#
#   packaging/assets.sh KEYLESS_BINARY OUT
#
# The .deb and .rpm metadata in Cargo.toml take these trees whole, so a new
# generated file is one `asset` line below.
set -eu

[ $# -eq 2 ] || { echo "usage: packaging/assets.sh KEYLESS_BINARY OUT" >&2; exit 2; }
keyless=$1
out=$2
[ -x "$keyless" ] || { echo "packaging/assets.sh: $keyless is not an executable; build it first (cargo build --release)" >&2; exit 1; }

rm -rf "$out/debian" "$out/generic"
mkdir -p "$out/debian/usr" "$out/generic"

# asset "COMMAND ARGS" DEBIAN_PATH GENERIC_PATH (both below share/)
asset() {
    generic=$out/generic/share/$3
    debian=$out/debian/usr/share/$2
    mkdir -p "$(dirname "$generic")" "$(dirname "$debian")"
    # shellcheck disable=SC2086 # the command's words are meant to split
    "$keyless" $1 >"$generic.tmp"
    [ -s "$generic.tmp" ] || { echo "packaging/assets.sh: keyless $1 printed nothing" >&2; exit 1; }
    chmod 644 "$generic.tmp"
    mv "$generic.tmp" "$generic"
    cp -p "$generic" "$debian"
}

asset "man"                 man/man1/keyless.1                    man/man1/keyless.1
# keyless(1) names a page per subcommand, keyless-SUBCOMMAND(1): each one.
# shellcheck disable=SC2013 # subcommand names are single words
for sub in $(sed -n 's/\\-/-/g; s/^keyless-\([a-z-]*\)(1)$/\1/p' "$out/generic/share/man/man1/keyless.1"); do
    asset "man $sub"        "man/man1/keyless-$sub.1"             "man/man1/keyless-$sub.1"
done
asset "completions bash"    bash-completion/completions/keyless   bash-completion/completions/keyless
asset "completions zsh"     zsh/vendor-completions/_keyless       zsh/site-functions/_keyless
asset "completions fish"    fish/vendor_completions.d/keyless.fish fish/vendor_completions.d/keyless.fish
