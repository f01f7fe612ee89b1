#!/usr/bin/env bash
# Builds a release into dist/ (ignored by git):
#
#   dist/keyless-VERSION-TARGET.tar.gz   binary, man page, completions,
#                                        shell snippets, docs, install.sh
#   dist/keyless-VERSION.tar.gz          the source (git archive), which
#                                        the Homebrew formula builds from
#   dist/keyless_VERSION-1_ARCH.deb      cargo deb
#   dist/keyless-VERSION-1.ARCH.rpm      cargo generate-rpm
#   dist/SHA256SUMS                      of all of the above
#
#   packaging/build.sh                       # cargo build --release first
#   KEYLESS_BIN=path/to/keyless packaging/build.sh
#                                            # package that binary (and the
#                                            # keyless-full beside it) instead
#                                            # (tests/packaging.sh does)
#   KEYLESS_DIST=DIR packaging/build.sh       # into DIR instead of dist/
#
# Needs cargo-deb and cargo-generate-rpm:
#   cargo install --locked cargo-deb cargo-generate-rpm
# KEYLESS_RPM_TOOL=rpmbuild makes the .rpm with rpmbuild from the same
# metadata instead (packaging/rpm_from_metadata.py; the test does, as
# cargo-generate-rpm takes minutes to install).
# Made to be reproducible: file times are the last commit's
# (SOURCE_DATE_EPOCH), paths of this machine are remapped out of the
# binary (which rebuilds every crate once: RUSTFLAGS change), and the
# archives list their files in a fixed order with numeric owners.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

rpm_tool=${KEYLESS_RPM_TOOL:-cargo-generate-rpm}
for tool in cargo-deb "$rpm_tool"; do
    command -v "$tool" >/dev/null || {
        echo "packaging/build.sh: missing $tool: cargo install --locked $tool (rpmbuild: apt-get install rpm)" >&2
        exit 1
    }
done

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
[ -n "$version" ] || { echo "packaging/build.sh: no version in Cargo.toml" >&2; exit 1; }
target=${KEYLESS_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

if [ -n "${KEYLESS_DIST:-}" ]; then
    dist=$KEYLESS_DIST
    [ ! -e "$dist" ] || [ -z "$(ls -A "$dist")" ] || {
        echo "packaging/build.sh: $dist is not empty; name a new or empty directory" >&2
        exit 1
    }
else
    dist=$root/dist
    rm -rf "$dist"
fi
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
# Where Cargo.toml's deb and rpm assets point (relative to the crate).
assets=$root/target/package-assets

if [ -z "${KEYLESS_BIN:-}" ]; then
    cargo_home=${CARGO_HOME:-$HOME/.cargo}
    RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$root=/build/keyless --remap-path-prefix=$cargo_home=/cargo" \
        cargo build --release --locked
    KEYLESS_BIN=${CARGO_TARGET_DIR:-$root/target}/release/keyless
fi
# `keyless` answers credential-process cache hits and the prompt, and hands
# everything else to `keyless-full`, which must sit in the same directory.
KEYLESS_FULL_BIN=$(dirname "$KEYLESS_BIN")/keyless-full
for b in "$KEYLESS_BIN" "$KEYLESS_FULL_BIN"; do
    [ -x "$b" ] || { echo "packaging/build.sh: $b is not an executable" >&2; exit 1; }
done

# cargo deb and cargo generate-rpm take `target/release/keyless` and
# `keyless-full` from the target directory: a private one holding exactly
# the binaries packaged.
pkg_target=$dist/target
mkdir -p "$pkg_target/release"
cp "$KEYLESS_BIN" "$pkg_target/release/keyless"
cp "$KEYLESS_FULL_BIN" "$pkg_target/release/keyless-full"
chmod 755 "$pkg_target/release/keyless" "$pkg_target/release/keyless-full"
bin=$pkg_target/release/keyless

packaging/assets.sh "$bin" "$assets"

# The binary tarball, laid out as a prefix (install.sh copies bin/ and
# share/ into one).
name=keyless-$version-$target
stage=$dist/stage/$name
mkdir -p "$stage/bin" "$stage/share/keyless" "$stage/share/doc/keyless"
cp "$bin" "$stage/bin/keyless"
cp "$pkg_target/release/keyless-full" "$stage/bin/keyless-full"
cp -R "$assets/generic/share/." "$stage/share/"
cp shell/* "$stage/share/keyless/"
cp README.md CHANGELOG.md packaging/copyright "$stage/share/doc/keyless/"
cp packaging/install.sh "$stage/install.sh"
chmod 755 "$stage/install.sh"
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --mode='u+rwX,go+rX,go-w' -C "$dist/stage" -cf - "$name" | gzip -9n >"$dist/$name.tar.gz"

# The source, for the Homebrew formula.
if git rev-parse --git-dir >/dev/null 2>&1; then
    git archive --format=tar --prefix="keyless-$version/" HEAD | gzip -9n >"$dist/keyless-$version.tar.gz"
else
    echo "packaging/build.sh: not a git checkout: no source tarball" >&2
fi

export CARGO_TARGET_DIR="$pkg_target"
# The binary is stripped already (profile.release strip); the packages keep
# it byte for byte as in the tarball.
cargo deb --no-build --no-strip ${KEYLESS_DEB_FAST:+--fast} -o "$dist/"
if [ "$rpm_tool" = rpmbuild ]; then
    python3 packaging/rpm_from_metadata.py "$pkg_target" "$dist"
else
    cargo generate-rpm ${KEYLESS_RPM_COMPRESS:+--payload-compress "$KEYLESS_RPM_COMPRESS"} -o "$dist/"
fi

(cd "$dist" && sha256sum -- *.tar.gz *.deb *.rpm >SHA256SUMS)
rm -rf "$dist/stage" "$pkg_target"
echo "packaging/build.sh: built into $dist:" >&2
(cd "$dist" && ls -l -- *.tar.gz *.deb *.rpm SHA256SUMS) >&2
