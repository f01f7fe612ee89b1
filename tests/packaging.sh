#!/usr/bin/env bash
# The packages, end to end, on this (Debian) machine, as root:
#   - packaging/build.sh makes the tarball, SHA256SUMS, .deb and .rpm into a
#     temporary directory, from an already built binary (by default the
#     debug build that `cargo test` leaves, stripped: no release build here);
#   - the .deb installs with dpkg -i: `keyless --version`, `man keyless`,
#     the completions and shell snippets where Debian expects them;
#   - the .rpm's contents and dependencies (rpm -qlp, Debian's rpm);
#   - install.sh: a good checksum installs, a bad one or a tampered tarball
#     is refused and leaves nothing behind;
#   - packaging/generate.sh: the formula passes `ruby -c`, the Scoop
#     manifest and the winget manifests parse and have what each needs;
#   - dpkg -r removes every file the package installed.
#
#   bash tests/packaging.sh                    # after cargo build / cargo test
#   KEYLESS_BIN=path/to/keyless bash tests/packaging.sh
#
# Needs: dpkg, rpm, ruby, python3 with PyYAML, cargo-deb, cargo-generate-rpm
# (tests/run installs them when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s)

fail() {
    echo "tests/packaging.sh: FAIL: $*" >&2
    exit 1
}
passed=0
ok() {
    passed=$((passed + 1))
    echo "tests/packaging.sh: ok: $*"
}

[ "$(id -u)" -eq 0 ] || fail "run as root (it installs and removes the .deb): sudo bash tests/packaging.sh"
for tool in dpkg rpm ruby python3 cargo-deb man strip; do
    command -v "$tool" >/dev/null || fail "missing $tool: apt-get install dpkg rpm ruby man-db binutils; cargo install --locked cargo-deb"
done
# cargo-generate-rpm when it is installed, else rpmbuild from the same
# Cargo.toml metadata (packaging/rpm_from_metadata.py).
if command -v cargo-generate-rpm >/dev/null; then rpm_tool=cargo-generate-rpm; else rpm_tool=rpmbuild; fi
python3 -c 'import yaml' 2>/dev/null || fail "missing PyYAML: python3 -m pip install pyyaml"
if dpkg-query -W -f '${Status}' keyless 2>/dev/null | grep -q 'install ok installed'; then
    fail "a keyless package is installed already; remove it first: dpkg -r keyless"
fi

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
target=$(rustc -vV | sed -n 's/^host: //p')
bin=${KEYLESS_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/keyless}
full_bin=$(dirname "$bin")/keyless-full
for b in "$bin" "$full_bin"; do
    [ -x "$b" ] || fail "$b is not built: cargo build (or set KEYLESS_BIN, with keyless-full beside it)"
done

work=$(mktemp -d)
installed=
cleanup() {
    if [ -n "$installed" ]; then dpkg -r keyless >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The debug binary is large with its symbols; packaged stripped.
strip -o "$work/keyless" "$bin"
strip -o "$work/keyless-full" "$full_bin"
dist=$work/dist
KEYLESS_BIN=$work/keyless KEYLESS_DIST=$dist KEYLESS_DEB_FAST=1 KEYLESS_RPM_COMPRESS=gzip KEYLESS_RPM_TOOL=$rpm_tool \
    packaging/build.sh 2>"$work/build.log" || { cat "$work/build.log" >&2; fail "packaging/build.sh"; }
deb=$(echo "$dist"/keyless_"$version"-*.deb)
rpm=$(echo "$dist"/keyless-"$version"-*.rpm)
tarball=$dist/keyless-$version-$target.tar.gz
for f in "$deb" "$rpm" "$tarball" "$dist/keyless-$version.tar.gz" "$dist/SHA256SUMS"; do
    [ -f "$f" ] || fail "packaging/build.sh made no ${f##*/}: $(ls "$dist")"
done
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the files"
ok "build.sh: tarball, source tarball, .deb, .rpm ($rpm_tool), SHA256SUMS"

# --- .deb ---
[ "$(dpkg-deb -f "$deb" Version)" = "$version-1" ] || fail ".deb version: $(dpkg-deb -f "$deb" Version)"
dpkg-deb -f "$deb" Recommends | grep -qw gnome-keyring || fail ".deb does not recommend gnome-keyring"
dpkg-deb -f "$deb" Suggests | grep -qw keyutils || fail ".deb does not suggest keyutils"
installed=yes
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i"; }
out=$(/usr/bin/keyless --version) || fail "keyless --version after dpkg -i"
case $out in "keyless $version"*) ;; *) fail "keyless --version printed '$out'" ;; esac
ok "dpkg -i, then /usr/bin/keyless --version: $out"
if [ -z "${KEYLESS_BIN:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
    # Built from this checkout: the version names one of its commits.
    commit=$(echo "$out" | sed -n 's/^keyless [^ ]* (\([0-9a-f]\{7,\}\))$/\1/p')
    if [ -z "$commit" ] || ! git cat-file -e "$commit^{commit}" 2>/dev/null; then
        fail "keyless --version of a build from git names no commit of it: '$out'"
    fi
    ok "keyless --version names commit $commit of this checkout"
fi

dpkg -L keyless >"$work/files"
for path in \
    /usr/bin/keyless \
    /usr/bin/keyless-full \
    /usr/share/man/man1/keyless.1.gz \
    /usr/share/bash-completion/completions/keyless \
    /usr/share/zsh/vendor-completions/_keyless \
    /usr/share/fish/vendor_completions.d/keyless.fish \
    /usr/share/keyless/keyless.bash \
    /usr/share/keyless/keyless.zsh \
    /usr/share/keyless/keyless.fish \
    /usr/share/keyless/starship.toml \
    /usr/share/doc/keyless/copyright \
    /usr/share/doc/keyless/changelog.gz; do
    grep -qx "$path" "$work/files" || fail "dpkg -L keyless does not list $path"
    [ -f "$path" ] || fail "$path is listed by dpkg -L but not on disk"
done
ok "dpkg -L: both binaries, man page, bash/zsh/fish completions, shell snippets, copyright, changelog"

[ "$(man -w keyless)" = /usr/share/man/man1/keyless.1.gz ] || fail "man -w keyless: $(man -w keyless 2>&1)"
MANPAGER=cat MANWIDTH=80 man keyless 2>/dev/null | grep -q credential-process || fail "man keyless shows no credential-process"
ok "man keyless"
bash -c 'source /usr/share/bash-completion/completions/keyless && complete -p keyless' >/dev/null ||
    fail "the bash completion does not register a completion for keyless"
ok "bash completion at /usr/share/bash-completion/completions/keyless"

# --- .rpm ---
rpm -qlp "$rpm" 2>/dev/null >"$work/rpm-files"
for path in \
    /usr/bin/keyless \
    /usr/bin/keyless-full \
    /usr/share/man/man1/keyless.1 \
    /usr/share/bash-completion/completions/keyless \
    /usr/share/zsh/site-functions/_keyless \
    /usr/share/fish/vendor_completions.d/keyless.fish \
    /usr/share/keyless/keyless.bash \
    /usr/share/licenses/keyless/copyright; do
    grep -qx "$path" "$work/rpm-files" || fail "rpm -qlp does not list $path: $(cat "$work/rpm-files")"
done
[ "$(rpm -qp --qf '%{VERSION}' "$rpm" 2>/dev/null)" = "$version" ] || fail ".rpm version"
rpm -qp --recommends "$rpm" 2>/dev/null | grep -qw gnome-keyring || fail ".rpm does not recommend gnome-keyring"
ok "rpm -qlp: the same contents, zsh completion in site-functions; Recommends gnome-keyring"

# --- install.sh ---
export TMPDIR=$work/tmp
mkdir "$TMPDIR"
prefix=$work/prefix
sh packaging/install.sh --prefix "$prefix" "$tarball" 2>"$work/install.log" || { cat "$work/install.log" >&2; fail "install.sh with SHA256SUMS"; }
case $("$prefix/bin/keyless" --version) in "keyless $version"*) ;; *) fail "installed keyless --version" ;; esac
for f in bin/keyless-full share/man/man1/keyless.1 share/bash-completion/completions/keyless share/zsh/site-functions/_keyless \
    share/fish/vendor_completions.d/keyless.fish share/keyless/keyless.bash share/doc/keyless/copyright; do
    [ -f "$prefix/$f" ] || fail "install.sh did not install $f"
done
[ -z "$(ls -A "$TMPDIR")" ] || fail "install.sh left $(ls "$TMPDIR") in TMPDIR"
ok "install.sh: SHA256SUMS beside the tarball checked, installed into the prefix"

good=$(sha256sum "$tarball" | cut -d' ' -f1)
mkdir "$work/alone"
cp "$tarball" "$work/alone/"
sh packaging/install.sh --prefix "$work/prefix2" --sha256 "$(echo "$good" | tr a-f A-F)" "$work/alone/${tarball##*/}" 2>/dev/null ||
    fail "install.sh --sha256 with the right digest"
[ -x "$work/prefix2/bin/keyless" ] || fail "install.sh --sha256 installed nothing"
ok "install.sh --sha256 (upper case), no SHA256SUMS needed"

refused() { # WHAT PREFIX ARGS...
    what=$1 p=$2
    shift 2
    if sh packaging/install.sh --prefix "$p" "$@" 2>"$work/refusal"; then
        fail "install.sh accepted $what"
    fi
    grep -q . "$work/refusal" || fail "install.sh refused $what without a word"
    [ ! -e "$p" ] || fail "install.sh left $p behind after refusing $what"
    [ -z "$(ls -A "$TMPDIR")" ] || fail "install.sh left $(ls "$TMPDIR") in TMPDIR after refusing $what"
    ok "install.sh refuses $what and leaves nothing: $(head -n1 "$work/refusal")"
}
refused "a wrong --sha256" "$work/bad1" --sha256 "$(printf '0%.0s' $(seq 64))" "$tarball"
refused "a tarball without SHA256SUMS or --sha256" "$work/bad2" "$work/alone/${tarball##*/}"
mkdir "$work/tampered"
cp "$dist/SHA256SUMS" "$work/tampered/"
{ cat "$tarball"; printf 'x'; } >"$work/tampered/${tarball##*/}"
refused "a tarball that does not match SHA256SUMS" "$work/bad3" "$work/tampered/${tarball##*/}"
other=${tarball%-"$target".tar.gz}-riscv64gc-unknown-linux-gnu.tar.gz
cp "$tarball" "$other"
refused "a tarball for another machine" "$work/bad4" --sha256 "$good" "$other"
refused "a malformed --sha256" "$work/bad5" --sha256 xyz "$tarball"

# --- generate.sh: formula and manifests ---
printf 'stand-in for the Windows build\n' >"$work/keyless-$version-x86_64-pc-windows-msvc.zip"
cp "$dist/SHA256SUMS" "$work/sums"
(cd "$work" && sha256sum "keyless-$version-x86_64-pc-windows-msvc.zip") >>"$work/sums"
gen=$work/generated
packaging/generate.sh --base-url "https://downloads.example.com/keyless/v$version" \
    --homepage https://example.com/keyless --sums "$work/sums" --out "$gen" 2>/dev/null || fail "packaging/generate.sh"
ruby -c "$gen/homebrew/keyless.rb" >/dev/null || fail "ruby -c on the Homebrew formula"
source_sha=$(sha256sum "$dist/keyless-$version.tar.gz" | cut -d' ' -f1)
grep -q "sha256 \"$source_sha\"" "$gen/homebrew/keyless.rb" || fail "the formula does not carry the source tarball's SHA-256"
grep -q "keyless-$version.tar.gz\"" "$gen/homebrew/keyless.rb" || fail "the formula does not name keyless-$version.tar.gz"
ok "Homebrew formula: ruby -c, version $version, the source tarball's SHA-256"
python3 tests/packaging_manifests.py "$gen" "$version" "$work/sums" || fail "Scoop or winget manifests"
ok "Scoop manifest (JSON) and winget manifests (YAML): parsed, required fields, version, URLs, SHA-256"
if packaging/generate.sh --base-url https://example.com --sums "$dist/SHA256SUMS" --out "$work/nowin" 2>"$work/gen.err"; then
    fail "generate.sh without the Windows build's checksum succeeded"
fi
grep -q "x86_64-pc-windows-msvc.zip" "$work/gen.err" || fail "generate.sh did not name the missing checksum"
ok "generate.sh refuses a SHA256SUMS without the Windows zip, naming it"

# --- removal ---
dpkg -r keyless >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r keyless"; }
installed=
dpkg-query -W -f '${Status}' keyless 2>/dev/null | grep -q 'install ok installed' && fail "still installed after dpkg -r"
while IFS= read -r path; do
    [ -d "$path" ] && continue
    [ ! -e "$path" ] || fail "$path is still there after dpkg -r"
done <"$work/files"
[ ! -d /usr/share/keyless ] || fail "/usr/share/keyless is still there after dpkg -r"
ok "dpkg -r keyless removed every file it installed"

echo "tests/packaging.sh: took $(($(date +%s) - start)) s"
echo "packaging: $passed passed, 0 failed"
