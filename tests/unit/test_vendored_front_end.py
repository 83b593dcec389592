"""console/static/vendor/ is exactly what refresh.py built from package-lock.json: nobody edits a vendored file.

No Node and no network: the checks compare files with VERSIONS.json and the lock, as `refresh.py --check` does.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from importlib.metadata import metadata
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT

VENDOR = REPO_ROOT / "console" / "static" / "vendor"


def _load_refresh() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vendor_refresh", VENDOR / "refresh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    # No __pycache__/ in a folder the app serves.
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return module


refresh = _load_refresh()


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the lock, package.json and vendor/ to spoil: (root, vendor)."""
    root = tmp_path / "project"
    shutil.copytree(
        VENDOR, root / "console" / "static" / "vendor", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(REPO_ROOT / name, root / name)
    return root, root / "console" / "static" / "vendor"


def _edit_json(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_the_vendored_files_match_their_checksums_and_the_locked_versions():
    assert refresh.check() == []


def test_the_manifest_names_the_locked_version_of_each_package():
    manifest = json.loads((VENDOR / "VERSIONS.json").read_text())
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())["packages"]
    for name in ("govuk-frontend", "@ministryofjustice/frontend", "@twilio/voice-sdk", "chart.js", "sass"):
        assert manifest["packages"][name] == lock[f"node_modules/{name}"]["version"]
    assert set(manifest["files"]) >= {
        "staff-pages.min.css",
        "govuk-frontend.min.js",
        "moj-frontend.min.js",
        "twilio.min.js",
        "chart.umd.min.js",
        "chart.LICENSE.md",
    }


def test_a_vendored_file_edited_by_hand_is_caught(project):
    root, vendor = project
    with (vendor / "govuk-frontend.min.js").open("a") as script:
        script.write("/* a quick fix */")
    assert refresh.check(vendor, root) == [
        "govuk-frontend.min.js differs from what refresh.py wrote (edited by hand?): run refresh.py"
    ]


def test_a_file_dropped_into_vendor_or_one_gone_missing_is_caught(project):
    root, vendor = project
    (vendor / "images" / "council-logo.svg").write_text("<svg/>")
    (vendor / "twilio.min.js").unlink()
    assert refresh.check(vendor, root) == [
        "twilio.min.js is listed in VERSIONS.json but missing",
        "images/council-logo.svg is not in VERSIONS.json: remove it",
    ]


def test_a_new_version_in_the_lock_without_a_refresh_is_caught(project):
    root, vendor = project

    def bump(document):  # type: ignore[no-untyped-def]
        document["packages"]["node_modules/govuk-frontend"]["version"] = "6.4.0"

    _edit_json(root / "package-lock.json", bump)
    _edit_json(
        root / "package.json", lambda document: document["dependencies"].update({"govuk-frontend": "6.4.0"})
    )
    assert refresh.check(vendor, root) == [
        "govuk-frontend: VERSIONS.json says 6.3.0, the lock 6.4.0: run refresh.py"
    ]


def test_package_json_pins_exact_versions_that_agree_with_the_lock(project):
    root, vendor = project
    _edit_json(
        root / "package.json", lambda document: document["dependencies"].update({"govuk-frontend": "^6.3.0"})
    )
    assert refresh.check(vendor, root) == [
        "package.json must pin govuk-frontend to an exact version (it has '^6.3.0')"
    ]


def test_the_stylesheet_source_changed_without_a_refresh_is_caught(project):
    root, vendor = project
    with (vendor / "staff-pages.scss").open("a") as source:
        source.write("\n.my-own-fix { color: red; }\n")
    assert refresh.check(vendor, root) == ["staff-pages.scss changed since the last refresh: run refresh.py"]


def test_the_stylesheet_uses_a_system_font_and_draws_no_crown():
    css = (VENDOR / "staff-pages.min.css").read_text()
    assert "GDS Transport" not in css and "@font-face" not in css
    assert "font-family:arial,sans-serif" in css
    drawn = set(re.findall(r"url\(\"?images/([^\")]+)\"?\)", css))
    assert drawn - {"govuk-crest.svg"} == {p.name for p in (VENDOR / "images").iterdir()}
    assert not any("crest" in name or "crown" in name for name in refresh.output_files(VENDOR))


def test_the_font_and_crown_rule_is_checked_not_assumed():
    vendored = {"images/icon-document.svg", "images/govuk-crest.svg"}
    css = '.x{font-family:"GDS Transport",arial}.y{background:url(images/icon-missing.svg)}'
    assert refresh.stylesheet_problems(css, vendored) == [
        "staff-pages.min.css uses a web font (GDS Transport is for GOV.UK only): use a system font",
        "staff-pages.min.css draws images/icon-missing.svg, which is not vendored",
        "images/govuk-crest.svg must not be shipped",
    ]


def test_the_check_command_runs_without_node():
    # Only this Python on PATH: no node, no npm.
    env = {"PATH": str(Path(sys.executable).parent)}
    done = subprocess.run(
        [sys.executable, str(VENDOR / "refresh.py"), "--check"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "vendor/ matches VERSIONS.json and package-lock.json"


def test_the_jinja_macros_are_the_port_of_the_pinned_govuk_frontend():
    """govuk-frontend-jinja says which GOV.UK Frontend each release ports; bumping one without the other fails."""
    jinja = metadata("govuk-frontend-jinja")
    ported = re.search(
        rf"\| \[{re.escape(jinja['Version'])}\]\([^)]*\)\s*\| \[(\d+\.\d+\.\d+)\]", jinja["Description"] or ""
    )
    assert ported is not None, "govuk-frontend-jinja's README no longer has its compatibility table"
    assert ported.group(1) == refresh.locked_versions()["govuk-frontend"]
