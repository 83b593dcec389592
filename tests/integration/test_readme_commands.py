"""Every `python3 dev.py flask …` line the READMEs show works as written, in a fresh copy of the project.

The commands are read from the READMEs themselves, so the test fails as soon as the documentation drifts from
what the code accepts. They run in order (the flows block builds on seed-demo), in a shell with nothing set
for the project, against the copy's own embedded SQLite database and Redis.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.processes import command_line, session_members
from tests.project_copy import copy_project, newcomer_environment

READMES = ("README.md", "scenarios/README.md")
DEV_FLASK = "python3 dev.py flask "
# A fenced block (only `sh` ones hold commands) or an inline code span, in document order.
_CODE = re.compile(r"```(?P<language>\w*)\n(?P<block>.*?)```|`(?P<inline>[^`]+)`", re.S)
_COMMENT = re.compile(r"\s+#\s.*$")


def documented_commands(root: Path) -> list[str]:
    """The READMEs' `python3 dev.py flask` lines, in order, once each; `…` marks a pattern, not a command."""
    commands: list[str] = []
    for name in READMES:
        for code in _CODE.finditer((root / name).read_text()):
            if code["inline"] is not None:
                candidates = [" ".join(code["inline"].split())]
            elif code["language"] == "sh":
                candidates = [_COMMENT.sub("", line).strip() for line in code["block"].splitlines()]
            else:
                continue
            for command in candidates:
                if command.startswith(DEV_FLASK) and "…" not in command and command not in commands:
                    commands.append(command)
    return commands


def test_the_readmes_document_the_flows_scenarios_and_advisers_commands():
    commands = documented_commands(REPO_ROOT)
    for expected in (
        "flows validate",
        "flows list",
        "flows publish",
        "sim run",
        "advisers state",
        "seed-demo",
    ):
        assert any(command.startswith(DEV_FLASK + expected) for command in commands), (expected, commands)


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("newcomer")
    return copy_project(folder), newcomer_environment(folder / "shims")


def test_every_documented_command_works_as_written_in_a_fresh_clone(fresh_clone):
    clone, env = fresh_clone
    for command in documented_commands(clone):
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so whatever it starts can be found afterwards by its session
        )
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, f"{command}\n{output}"
        assert "Traceback" not in output, f"{command}\n{output}"
        left = {pid: command_line(pid) for pid in session_members(process.pid)}
        assert not left, f"{command} left processes running: {left}"

    listing = subprocess.run(
        ["bash", "-c", DEV_FLASK + "flows list"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # The README's publish-then-roll-back really happened in the copy's own database.
    versions = [line.split()[:2] for line in listing.stdout.splitlines()]
    assert versions == [["1", "published"], ["2", "archived"]], listing.stdout
