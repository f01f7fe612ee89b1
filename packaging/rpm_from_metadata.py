"""Makes the .rpm with rpmbuild from Cargo.toml's
[package.metadata.generate-rpm], for machines without cargo-generate-rpm
(whose build takes longer than the whole packaging test; the test runs
this). Releases use `cargo generate-rpm`: this reads the same assets, globs
and all, and the same recommends and suggests, so the test checks the
metadata the release is made from.

    python3 packaging/rpm_from_metadata.py TARGET_DIR OUT_DIR

TARGET_DIR holds release/keyless (what `target/release/` stands for).
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path


def expand(source, dest, target_dir):
    """(source file, destination) pairs, as cargo-generate-rpm expands them:
    a glob keeps each file's path below the part before its first `*`."""
    if source.startswith("target/release/"):
        source = str(Path(target_dir) / "release" / source.removeprefix("target/release/"))
    if "*" not in source:
        if not Path(source).is_file():
            sys.exit(f"rpm_from_metadata: asset {source} does not exist")
        if dest.endswith("/"):
            dest += Path(source).name
        return [(source, dest)]
    base = source.split("*", 1)[0]
    base = base if os.path.isdir(base) else os.path.dirname(base)
    pairs = [
        (f, str(Path(dest) / os.path.relpath(f, base)))
        for f in sorted(glob.glob(source, recursive=True))
        if os.path.isfile(f)
    ]
    if not pairs:
        sys.exit(f"rpm_from_metadata: no file matches {source}")
    return pairs


def main():
    target_dir, out_dir = sys.argv[1], Path(sys.argv[2])
    with open("Cargo.toml", "rb") as f:
        cargo = tomllib.load(f)
    package = cargo["package"]
    meta = package["metadata"]["generate-rpm"]
    version = package["version"]
    arch = os.uname().machine

    top = Path(tempfile.mkdtemp(prefix="keyless-rpm."))
    try:
        root = top / "root"
        files = []
        for asset in meta["assets"]:
            for src, dst in expand(asset["source"], asset["dest"], target_dir):
                path = root / dst.lstrip("/")
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, path)
                mode = asset.get("mode", "644")
                files.append(f"%attr({mode},root,root) {'%doc ' if asset.get('doc') else ''}{dst}")
        deps = [
            f"{kind.capitalize()}: {name}"
            for kind in ("recommends", "suggests")
            for name in meta.get(kind, {})
        ]
        spec = "\n".join(
            [
                f"Name: {package['name']}",
                f"Version: {version}",
                "Release: 1",
                f"Summary: {meta.get('summary', package['description'])}",
                f"License: {package['license']}",
                *deps,
                "",
                "%description",
                package["description"],
                "",
                "%files",
                *files,
                "",
            ]
        )
        (top / "keyless.spec").write_text(spec)
        subprocess.run(
            [
                "rpmbuild", "-bb", "--quiet",
                "--define", f"_topdir {top}",
                "--define", f"_rpmdir {top / 'rpms'}",
                "--define", "_binary_payload w6.gzdio",
                "--define", "__os_install_post %{nil}",
                "--define", "_build_id_links none",
                "--buildroot", str(root),
                str(top / "keyless.spec"),
            ],
            check=True,
        )
        (rpm,) = (top / "rpms").glob(f"*/keyless-{version}-1.*.rpm")
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(rpm, out_dir / f"keyless-{version}-1.{arch}.rpm")
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
