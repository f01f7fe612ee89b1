"""Checks the Scoop and winget manifests that packaging/generate.sh wrote.

No schema of either is available offline, so this checks what each
format's schema requires of the fields keyless uses: the required keys,
their types and patterns, and that version, addresses and digests are
this release's.

    python3 tests/packaging_manifests.py GENERATED_DIR VERSION SHA256SUMS
"""

import json
import re
import sys
from pathlib import Path

import yaml

SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
WINDOWS_ZIP = "keyless-{v}-x86_64-pc-windows-msvc.zip"


def check(cond, what):
    if not cond:
        sys.exit(f"packaging_manifests: {what}")


def sums(path):
    out = {}
    for line in Path(path).read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        out[name.lstrip("*")] = digest
    return out


def scoop(path, version, digests):
    m = json.loads(path.read_text())
    check(isinstance(m, dict), "scoop: not a JSON object")
    for key in ("version", "description", "homepage", "license", "architecture", "bin"):
        check(key in m, f"scoop: no {key}")
    check(m["version"] == version, f"scoop: version {m['version']!r}")
    arch = m["architecture"]["64bit"]
    zip_name = WINDOWS_ZIP.format(v=version)
    check(arch["url"].startswith("https://") and arch["url"].endswith("/" + zip_name), f"scoop: url {arch['url']}")
    check(SHA256.match(arch["hash"]) is not None, "scoop: hash is not a SHA-256")
    check(arch["hash"].lower() == digests[zip_name], "scoop: hash is not the zip's")
    check(m["bin"].endswith("keyless.exe"), "scoop: bin")
    unknown = set(m) - {"version", "description", "homepage", "license", "architecture", "bin", "notes"}
    check(not unknown, f"scoop: unexpected keys {unknown}")


def winget(directory, version, digests):
    files = sorted(directory.glob("*.yaml"))
    check(len(files) == 3, f"winget: {len(files)} manifests in {directory}")
    docs = {}
    for f in files:
        doc = yaml.safe_load(f.read_text())
        check(isinstance(doc, dict), f"winget: {f.name} is not a mapping")
        check(doc.get("ManifestVersion") == "1.6.0", f"winget: {f.name} ManifestVersion")
        check(doc.get("PackageIdentifier") == "Keyless.Keyless", f"winget: {f.name} PackageIdentifier")
        check(
            re.match(r"^[^\.\s\\/:\*\?\"<>\|\x01-\x1f]{1,32}(\.[^\.\s\\/:\*\?\"<>\|\x01-\x1f]{1,32}){1,7}$", doc["PackageIdentifier"])
            is not None,
            "winget: PackageIdentifier pattern",
        )
        check(doc.get("PackageVersion") == version, f"winget: {f.name} PackageVersion {doc.get('PackageVersion')!r}")
        docs[doc.get("ManifestType")] = (f.name, doc)
    check(set(docs) == {"version", "installer", "defaultLocale"}, f"winget: manifest types {set(docs)}")
    name, version_doc = docs["version"]
    check(name == "Keyless.Keyless.yaml", f"winget: the version manifest is {name}")
    check(version_doc.get("DefaultLocale") == "en-US", "winget: DefaultLocale")
    name, locale = docs["defaultLocale"]
    check(name == "Keyless.Keyless.locale.en-US.yaml", f"winget: the locale manifest is {name}")
    for key in ("PackageLocale", "Publisher", "PackageName", "License", "ShortDescription"):
        check(isinstance(locale.get(key), str) and locale[key], f"winget: locale has no {key}")
    check(len(locale["ShortDescription"]) <= 256, "winget: ShortDescription longer than 256")
    name, inst = docs["installer"]
    check(name == "Keyless.Keyless.installer.yaml", f"winget: the installer manifest is {name}")
    check(inst.get("InstallerType") == "zip" and inst.get("NestedInstallerType") == "portable", "winget: installer types")
    nested = inst.get("NestedInstallerFiles")
    check(isinstance(nested, list) and nested and nested[0]["RelativeFilePath"].endswith("keyless.exe"), "winget: NestedInstallerFiles")
    check(nested[0].get("PortableCommandAlias") == "keyless", "winget: PortableCommandAlias")
    installers = inst.get("Installers")
    check(isinstance(installers, list) and len(installers) == 1, "winget: Installers")
    x64 = installers[0]
    zip_name = WINDOWS_ZIP.format(v=version)
    check(x64.get("Architecture") == "x64", "winget: Architecture")
    check(x64["InstallerUrl"].startswith("https://") and x64["InstallerUrl"].endswith("/" + zip_name), "winget: InstallerUrl")
    check(SHA256.match(x64["InstallerSha256"]) is not None, "winget: InstallerSha256 is not a SHA-256")
    check(x64["InstallerSha256"].lower() == digests[zip_name], "winget: InstallerSha256 is not the zip's")


def main():
    generated, version, sums_file = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    digests = sums(sums_file)
    scoop(generated / "scoop" / "keyless.json", version, digests)
    winget(generated / "winget" / "manifests" / "k" / "Keyless" / "Keyless" / version, version, digests)


if __name__ == "__main__":
    main()
