#!/usr/bin/env python3
"""Rebuild the staff pages' vendored front end from package-lock.json, or check it.

    python3 console/static/vendor/refresh.py          # needs Node 20 + npm and the npm registry
    python3 console/static/vendor/refresh.py --check  # no Node, no network: is vendor/ what the lock says?

Refreshing installs the locked packages (`npm ci`) into a temporary folder, compiles staff-pages.scss (GOV.UK
Frontend + MOJ Frontend, system font, no crown) into one minified stylesheet, copies the browser bundles and the
images the stylesheet draws, and writes VERSIONS.json: each package's version and every file's sha256. Only
this script needs Node: the app serves what it wrote, and the unit tests run the same check as --check.

To move to new versions: change the exact versions in package.json, run `npm install --package-lock-only`,
run this script, and commit package.json, package-lock.json and this folder together.
Standard library only, so any Python 3.11 runs it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parent
ROOT = VENDOR.parents[2]
MANIFEST = "VERSIONS.json"
STYLESHEET_SOURCE = "staff-pages.scss"
STYLESHEET = "staff-pages.min.css"
# The recipe lives beside its output; everything else in this folder is output and listed in the manifest.
RECIPE = frozenset({"refresh.py", STYLESHEET_SOURCE, MANIFEST})
SASS = "sass"


@dataclass(frozen=True)
class Bundle:
    """A file shipped as its package publishes it (less the source-map comment: no maps are shipped)."""

    name: str
    package: str
    path: str


BUNDLES = (
    Bundle("govuk-frontend.min.js", "govuk-frontend", "dist/govuk/govuk-frontend.min.js"),
    Bundle("moj-frontend.min.js", "@ministryofjustice/frontend", "moj/moj-frontend.min.js"),
    Bundle("twilio.min.js", "@twilio/voice-sdk", "dist/twilio.min.js"),
    # Apache-2.0 asks that a copy of the licence travels with the code.
    Bundle("twilio.LICENSE.md", "@twilio/voice-sdk", "LICENSE.md"),
    # The report pages' charts (console/report_charts.js draws them from the tables): the UMD build sets
    # window.Chart and carries @kurkle/color, its one dependency, inside it (with that package's own banner).
    Bundle("chart.umd.min.js", "chart.js", "dist/chart.umd.min.js"),
    # MIT asks that the copyright and permission notice travel with the code; the bundle's banner only names it.
    Bundle("chart.LICENSE.md", "chart.js", "LICENSE.md"),
)
PACKAGES = ("govuk-frontend", "@ministryofjustice/frontend", "@twilio/voice-sdk", "chart.js", SASS)
# Where the stylesheet's url(images/...) files come from, first match wins.
IMAGE_FOLDERS = (
    ("@ministryofjustice/frontend", "moj/assets/images"),
    ("govuk-frontend", "dist/govuk/assets/images"),
)
# Drawn by a rule of the stylesheet that staff pages never use, and not to be shipped: a council is not GOV.UK.
NOT_SHIPPED = {
    "govuk-crest.svg": "the royal coat of arms of .govuk-footer__copyright-logo (Crown copyright)",
}
IMAGE_URL = re.compile(r"""url\(\s*["']?images/([^"')\s]+)["']?\s*\)""")
FONT_URL = re.compile(r"""url\([^)]*\.(?:woff2?|ttf|otf|eot)\b""")
SOURCE_MAP_COMMENT = re.compile(rb"\n?//# sourceMappingURL=\S+\s*\Z")
EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def locked_versions(root: Path = ROOT) -> dict[str, str]:
    """The version package-lock.json installs for each vendored package (and sass, which builds the CSS)."""
    lock = json.loads((root / "package-lock.json").read_text())
    installed = lock["packages"]
    return {name: installed[f"node_modules/{name}"]["version"] for name in PACKAGES}


def pinning_problems(root: Path, locked: dict[str, str]) -> list[str]:
    """package.json must pin each package to one exact version, the one the lock has."""
    manifest = json.loads((root / "package.json").read_text())
    wanted = {**manifest.get("dependencies", {}), **manifest.get("devDependencies", {})}
    problems = []
    for name in PACKAGES:
        pinned = wanted.get(name)
        if pinned is None or not EXACT_VERSION.fullmatch(pinned):
            problems.append(f"package.json must pin {name} to an exact version (it has {pinned!r})")
        elif pinned != locked[name]:
            problems.append(f"package.json pins {name} {pinned} but package-lock.json has {locked[name]}")
    return problems


def output_files(vendor: Path) -> set[str]:
    return {
        path.relative_to(vendor).as_posix()
        for path in vendor.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.name not in RECIPE
    }


def check(vendor: Path = VENDOR, root: Path = ROOT) -> list[str]:
    """Everything that makes vendor/ differ from what refreshing from the lock wrote; empty when it matches."""
    manifest_path = vendor / MANIFEST
    if not manifest_path.is_file():
        return [f"{MANIFEST} is missing: run refresh.py"]
    manifest = json.loads(manifest_path.read_text())
    locked = locked_versions(root)
    problems = pinning_problems(root, locked)
    for name, version in locked.items():
        if manifest["packages"].get(name) != version:
            problems.append(
                f"{name}: {MANIFEST} says {manifest['packages'].get(name)}, the lock {version}: run refresh.py"
            )
    for name, recorded in manifest["sources"].items():
        if sha256(vendor / name) != recorded:
            problems.append(f"{name} changed since the last refresh: run refresh.py")
    listed = manifest["files"]
    for name, entry in sorted(listed.items()):
        path = vendor / name
        if not path.is_file():
            problems.append(f"{name} is listed in {MANIFEST} but missing")
        elif sha256(path) != entry["sha256"]:
            problems.append(f"{name} differs from what refresh.py wrote (edited by hand?): run refresh.py")
    problems += [
        f"{name} is not in {MANIFEST}: remove it" for name in sorted(output_files(vendor) - set(listed))
    ]
    stylesheet = vendor / STYLESHEET
    if stylesheet.is_file():
        problems += stylesheet_problems(stylesheet.read_text(), set(listed))
    return problems


def stylesheet_problems(css: str, vendored: set[str]) -> list[str]:
    """The font and crown rule, and no image drawn that is not shipped."""
    problems = []
    if "GDS Transport" in css or FONT_URL.search(css):
        problems.append(f"{STYLESHEET} uses a web font (GDS Transport is for GOV.UK only): use a system font")
    for image in sorted(set(IMAGE_URL.findall(css))):
        if f"images/{image}" not in vendored and image not in NOT_SHIPPED:
            problems.append(f"{STYLESHEET} draws images/{image}, which is not vendored")
    problems += [f"images/{name} must not be shipped" for name in NOT_SHIPPED if f"images/{name}" in vendored]
    return problems


def _run(command: list[str], cwd: Path) -> None:
    print("$", " ".join(command), flush=True)
    if subprocess.run(command, cwd=cwd).returncode != 0:
        sys.exit(f"refresh.py: {command[0]} failed (its message is above); vendor/ is unchanged")


def _build(build: Path, output: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Install the lock into `build`, write every vendored file into `output`; return their origins and licences."""
    for name in ("package.json", "package-lock.json", ".npmrc"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, build / name)
    # --ignore-scripts: nothing the packages ship runs here; sass is plain JavaScript.
    _run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=optional"], cwd=build)
    modules = build / "node_modules"
    origins: dict[str, str] = {}
    versions = locked_versions(ROOT)

    _run(
        [
            str(modules / ".bin" / SASS),
            "--style=compressed",
            "--no-source-map",
            "--quiet-deps",
            f"--load-path={build}",
            str(VENDOR / STYLESHEET_SOURCE),
            str(output / STYLESHEET),
        ],
        cwd=build,
    )
    origins[STYLESHEET] = f"{STYLESHEET_SOURCE} compiled by sass {versions[SASS]}"

    for bundle in BUNDLES:
        published = (modules / bundle.package / bundle.path).read_bytes()
        (output / bundle.name).write_bytes(SOURCE_MAP_COMMENT.sub(b"\n", published))
        origins[bundle.name] = f"{bundle.package} {versions[bundle.package]}: {bundle.path}"

    css = (output / STYLESHEET).read_text()
    (output / "images").mkdir()
    for image in sorted(set(IMAGE_URL.findall(css)) - set(NOT_SHIPPED)):
        for package, folder in IMAGE_FOLDERS:
            source = modules / package / folder / image
            if source.is_file():
                shutil.copy2(source, output / "images" / image)
                origins[f"images/{image}"] = f"{package} {versions[package]}: {folder}/{image}"
                break
        else:
            sys.exit(f"refresh.py: {STYLESHEET} draws images/{image}, found in no package")

    licences = {
        name: json.loads((modules / name / "package.json").read_text()).get("license", "unknown")
        for name in PACKAGES
    }
    return origins, licences


def refresh() -> None:
    """Replace vendor/'s output with a fresh build from the lock, and write the manifest."""
    if shutil.which("npm") is None:
        sys.exit("refresh.py needs Node 20 and npm on PATH (the app itself never does)")
    with tempfile.TemporaryDirectory(prefix="staff-pages-") as scratch:
        build, output = Path(scratch) / "build", Path(scratch) / "output"
        build.mkdir()
        output.mkdir()
        origins, licences = _build(build, output)
        for name in output_files(VENDOR):
            (VENDOR / name).unlink()
        shutil.rmtree(VENDOR / "images", ignore_errors=True)
        shutil.copytree(output, VENDOR, dirs_exist_ok=True)
    files = {
        name: {
            "sha256": sha256(VENDOR / name),
            "bytes": (VENDOR / name).stat().st_size,
            "from": origins[name],
        }
        for name in sorted(origins)
    }
    manifest = {
        "about": "Written by refresh.py from package-lock.json. Do not edit the files listed: refresh.py --check "
        "and the unit tests compare them with these checksums.",
        "packages": locked_versions(ROOT),
        "licences": licences,
        "sources": {STYLESHEET_SOURCE: sha256(VENDOR / STYLESHEET_SOURCE)},
        "files": files,
    }
    (VENDOR / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(entry["bytes"] for entry in files.values())
    print(f"vendored {len(files)} files, {total / 1024:.0f} KiB, into {VENDOR.relative_to(ROOT)}/")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare vendor/ with the lock; needs no Node")
    arguments = parser.parse_args(argv)
    if not arguments.check:
        refresh()
    problems = check()
    for problem in problems:
        print(f"refresh.py --check: {problem}", file=sys.stderr)
    if not problems:
        print("vendor/ matches VERSIONS.json and package-lock.json")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
