"""`flask flows ...` as a supervisor or deploy script uses it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from ivr.flow import DEFAULT_FLOW_PATH
from ivr.versions import MAIN_FLOW_NAME
from models import FlowStatus, FlowVersion
from tests.conftest import call_form


@pytest.fixture
def flow_file(tmp_path):
    path = tmp_path / "flow.json"
    path.write_text(DEFAULT_FLOW_PATH.read_text())
    return path


@pytest.fixture
def broken_flow_file(tmp_path):
    definition = json.loads(DEFAULT_FLOW_PATH.read_text())
    definition["nodes"]["main_menu"]["options"][0]["target"] = "nowhere"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(definition))
    return path


def test_validate_accepts_the_shipped_flow(runner, flow_file):
    result = runner.invoke(args=["flows", "validate", str(flow_file)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output.splitlines()[-1]


def test_validate_names_a_dangling_target_and_fails(runner, broken_flow_file):
    result = runner.invoke(args=["flows", "validate", str(broken_flow_file)])
    assert result.exit_code == 1
    assert "[dangling_target] main_menu" in result.output and "nowhere" in result.output


def test_validate_names_an_unreachable_node(runner, tmp_path):
    definition = json.loads(DEFAULT_FLOW_PATH.read_text())
    definition["nodes"]["mystery"] = {"kind": "hangup", "goodbye": {"en-GB": "Nobody can reach this."}}
    path = tmp_path / "unreachable.json"
    path.write_text(json.dumps(definition))
    result = runner.invoke(args=["flows", "validate", str(path)])
    assert result.exit_code == 1
    assert "[unreachable] mystery" in result.output


def test_import_publish_diff_export_and_rollback(runner, db, flow_file, tmp_path):
    assert runner.invoke(args=["flows", "import", MAIN_FLOW_NAME, str(flow_file), "--publish"]).exit_code == 0
    changed = json.loads(flow_file.read_text())
    changed["nodes"]["welcome"]["text"]["en-GB"] = "Welcome to Kirklees Council's new phone line."
    changed_file = tmp_path / "changed.json"
    changed_file.write_text(json.dumps(changed))
    assert runner.invoke(args=["flows", "import", MAIN_FLOW_NAME, str(changed_file)]).exit_code == 0

    diff = runner.invoke(args=["flows", "diff", MAIN_FLOW_NAME, "1", "2"])
    assert "welcome" in diff.output and diff.exit_code == 0

    published = runner.invoke(args=["flows", "publish", MAIN_FLOW_NAME, "2"])
    assert published.exit_code == 0, published.output
    exported = runner.invoke(args=["flows", "export", MAIN_FLOW_NAME])
    assert "new phone line" in json.loads(exported.output)["nodes"]["welcome"]["text"]["en-GB"]

    assert runner.invoke(args=["flows", "publish", MAIN_FLOW_NAME, "1"]).exit_code == 0  # rollback
    statuses = {v.number: v.status for v in db.scalars(select(FlowVersion))}
    assert statuses == {1: FlowStatus.PUBLISHED, 2: FlowStatus.ARCHIVED}
    listing = runner.invoke(args=["flows", "list"]).output
    assert "published" in listing and "archived" in listing


def test_an_invalid_draft_cannot_be_published(runner, db, flow_file, broken_flow_file):
    runner.invoke(args=["flows", "import", MAIN_FLOW_NAME, str(flow_file), "--publish"])
    assert runner.invoke(args=["flows", "import", MAIN_FLOW_NAME, str(broken_flow_file)]).exit_code == 0
    refused = runner.invoke(args=["flows", "publish", MAIN_FLOW_NAME, "2"])
    assert refused.exit_code != 0
    assert "nowhere" in refused.output
    assert db.scalar(select(FlowVersion.number).where(FlowVersion.status == FlowStatus.PUBLISHED)) == 1


def test_import_with_publish_refuses_an_invalid_flow(runner, db, broken_flow_file):
    result = runner.invoke(args=["flows", "import", MAIN_FLOW_NAME, str(broken_flow_file), "--publish"])
    assert result.exit_code != 0
    assert db.scalar(select(FlowVersion.id).where(FlowVersion.status == FlowStatus.PUBLISHED)) is None


def test_seed_demo_publishes_the_shipped_flow_once(runner, db):
    assert "published the shipped" in runner.invoke(args=["seed-demo"]).output
    assert "published the shipped" not in runner.invoke(args=["seed-demo"]).output
    assert db.scalar(select(FlowVersion.number).where(FlowVersion.status == FlowStatus.PUBLISHED)) == 1


def test_journey_and_funnel_replay_what_callers_did(runner, twilio_post):
    runner.invoke(args=["seed-demo"])
    sid = "CA" + "7" * 32
    twilio_post("/voice/incoming", call_form(sid))
    twilio_post("/voice/step?turn=0", call_form(sid, Digits="1"))
    twilio_post("/voice/step?turn=1", call_form(sid, Digits="8"))
    journey = runner.invoke(args=["flows", "journey", sid]).output
    assert "choose_language" in journey and "main_menu" in journey and "invalid" in journey
    funnel = runner.invoke(args=["flows", "funnel"]).output
    assert any(line.split()[:3] == ["main_menu", "invalid", "1"] for line in funnel.splitlines())


def test_validate_rejects_an_unknown_node_kind(runner, tmp_path):
    definition = json.loads(DEFAULT_FLOW_PATH.read_text())
    definition["nodes"]["mystery"] = {"kind": "teleport"}
    path = tmp_path / "unknown.json"
    path.write_text(json.dumps(definition))
    result = runner.invoke(args=["flows", "validate", str(path)])
    assert result.exit_code == 1
    assert "teleport" in result.output
