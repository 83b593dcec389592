"""`flask twilio setup` against the simulator's fake Twilio, every request checked against Twilio's own spec."""

from __future__ import annotations

import pytest

from config import API_KEY_SECRET, API_KEY_SID
from runtime.web import EXTENSION_KEY
from telephony.setup import API_KEY_NAME, SetupRefused, check_public_base_url, number_changes, wanted_webhooks
from tests.integration import test_gateway_contract
from tests.integration.test_gateway_contract import _assert_valid

recorded_requests = test_gateway_contract.recorded_requests  # the spec-checking recorder fixture, shared


def run_setup(live_service, *arguments: str):
    return live_service.app.test_cli_runner().invoke(args=["twilio", "setup", *arguments])


def council_number(live_service):
    world = live_service.world
    [number] = [n for n in world.incoming_numbers.values() if n.phone_number == world_number(live_service)]
    return number


def world_number(live_service) -> str:
    return live_service.services.settings.twilio_phone_number


def test_setup_points_the_number_at_the_app_creates_a_key_once_and_then_has_nothing_to_do(
    live_service, recorded_requests
):
    base = live_service.base_url
    first = run_setup(live_service)

    assert first.exit_code == 0, first.output
    as_twilio_says = live_service.services.gateway.find_incoming_number(world_number(live_service))
    assert {name: value for name, value in as_twilio_says.webhooks.items() if value} == {
        "VoiceUrl": f"{base}/voice/incoming",
        "VoiceMethod": "POST",
        "VoiceFallbackUrl": f"{base}/voice/fallback",
        "VoiceFallbackMethod": "POST",
        "StatusCallback": f"{base}/voice/status",
        "StatusCallbackMethod": "POST",
        "SmsUrl": f"{base}/sms/inbound",
        "SmsMethod": "POST",
    }
    [key] = live_service.world.api_keys.values()
    assert key.friendly_name == API_KEY_NAME
    assert (
        f"TWILIO_API_KEY_SID={key.sid}" in first.output
        and f"TWILIO_API_KEY_SECRET={key.secret}" in first.output
    )
    assert API_KEY_SID.fullmatch(key.sid) and API_KEY_SECRET.fullmatch(key.secret), (
        "it passes the start-up check"
    )
    _assert_valid(recorded_requests)
    methods = [(method, r["url"].split("/2010-04-01/", 1)[-1]) for method, _body, r in recorded_requests]
    account = f"Accounts/{live_service.world.account_sid}"
    assert ("GET", f"{account}/IncomingPhoneNumbers.json") in methods
    assert ("POST", f"{account}/IncomingPhoneNumbers/{council_number(live_service).sid}.json") in methods
    assert ("POST", f"{account}/Keys.json") in methods

    # Again before the key reached the environment: nothing more is made, and the secret is not shown again.
    recorded_requests.clear()
    second = run_setup(live_service)
    assert second.exit_code == 0, second.output
    assert "already sends its calls and texts" in second.output
    assert "exists already" in second.output and key.secret not in second.output
    assert "Nothing changed" in second.output
    assert len(live_service.world.api_keys) == 1
    assert all(method == "GET" for method, _body, _request in recorded_requests), "only looked"

    # With the key in the environment: it is checked, and all is in order.
    services = live_service.app.extensions[EXTENSION_KEY]
    services.settings = services.settings.with_overrides(
        twilio_api_key_sid=key.sid, twilio_api_key_secret=key.secret
    )
    third = run_setup(live_service)
    assert third.exit_code == 0 and f"API key {key.sid} (TWILIO_API_KEY_SID) exists" in third.output
    assert "Nothing changed" in third.output
    _assert_valid(recorded_requests)


def test_a_dry_run_says_what_it_would_change_and_changes_nothing(live_service, recorded_requests):
    result = run_setup(live_service, "--dry-run")

    assert result.exit_code == 0, result.output
    assert (
        f"Would set VoiceUrl of {world_number(live_service)}: (none) → {live_service.base_url}/voice/incoming"
        in (result.output)
    )
    assert "Would create an API key" in result.output and "Dry run: nothing was changed" in result.output
    assert council_number(live_service).webhooks == {}
    assert live_service.world.api_keys == {}
    assert all(method == "GET" for method, _body, _request in recorded_requests)
    _assert_valid(recorded_requests)


def test_a_number_left_pointing_elsewhere_is_corrected_field_by_field(live_service):
    number = council_number(live_service)
    right = wanted_webhooks(live_service.base_url)
    number.webhooks.update({**right, "VoiceUrl": "https://old-supplier.example/ivr", "SmsMethod": "GET"})

    result = run_setup(live_service)

    assert result.exit_code == 0, result.output
    assert "Set VoiceUrl" in result.output and "Set SmsMethod" in result.output
    assert "Set StatusCallback " not in result.output, "what was right already is left alone"
    assert number.webhooks["VoiceUrl"] == right["VoiceUrl"] and number.webhooks["SmsMethod"] == "POST"


def test_setup_refuses_plainly_when_it_cannot_go_on(live_service):
    services = live_service.app.extensions[EXTENSION_KEY]
    original = services.settings

    services.settings = original.with_overrides(public_base_url=None)
    assert "PUBLIC_BASE_URL must be set" in run_setup(live_service).output

    services.settings = original.with_overrides(twilio_phone_number="+441484000999")
    missing = run_setup(live_service)
    assert missing.exit_code == 1 and "has no number +441484000999" in missing.output

    services.settings = original.with_overrides(twilio_api_key_sid="SK" + "9" * 32)
    unknown_key = run_setup(live_service)
    assert unknown_key.exit_code == 1 and "is not a key of this Twilio account" in unknown_key.output

    services.settings = original
    council_number(live_service).webhooks["VoiceApplicationSid"] = "AP" + "1" * 32
    taken = run_setup(live_service)
    assert taken.exit_code == 1 and "handled by VoiceApplicationSid" in taken.output
    assert "VoiceUrl" not in council_number(live_service).webhooks, "nothing was changed"
    assert "Traceback" not in taken.output


def test_only_the_fields_that_differ_are_changes_and_an_unset_method_is_twilios_post():
    from telephony.gateway import IncomingNumber

    wanted = wanted_webhooks("https://phone.kirklees.gov.uk/")
    assert wanted["VoiceUrl"] == "https://phone.kirklees.gov.uk/voice/incoming"
    as_wanted = IncomingNumber("PN" + "1" * 32, "+441484221000", {**wanted, "SmsMethod": None})
    assert number_changes(as_wanted, wanted) == {}
    stale = IncomingNumber("PN" + "1" * 32, "+441484221000", {**wanted, "StatusCallback": None})
    assert number_changes(stale, wanted) == {"StatusCallback": "https://phone.kirklees.gov.uk/voice/status"}


@pytest.mark.parametrize("base", ["http://phone.kirklees.gov.uk", "phone.kirklees.gov.uk", "ftp://x"])
def test_outside_the_simulator_the_public_address_must_be_https(settings, base):
    with pytest.raises(SetupRefused, match="PUBLIC_BASE_URL must"):
        check_public_base_url(settings.with_overrides(simulator_enabled=False, public_base_url=base))


def test_the_command_line_starts_without_an_api_key_so_setup_can_make_one_but_the_web_app_does_not(tmp_path):
    import os
    import subprocess
    import sys

    from config import env_documentation
    from tests.conftest import REPO_ROOT
    from tests.processes import free_port

    env = {k: v for k, v in os.environ.items() if k not in env_documentation()}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'cc.db'}",
        REDIS_URL="redis://127.0.0.1:1/0",  # never reached: neither command gets that far
        TWILIO_ACCOUNT_SID="AC" + "2" * 32,
        TWILIO_AUTH_TOKEN="a-real-auth-token",
        SECRET_KEY="s" * 64,
        PORT=str(free_port()),
    )

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *arguments], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    setup_help = run("-m", "flask", "--app", "app", "twilio", "setup", "--help")
    assert setup_help.returncode == 0, setup_help.stderr
    assert "--dry-run" in setup_help.stdout
    web = run("-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()")
    assert web.returncode != 0 and "Traceback" not in web.stderr
    [line] = web.stderr.strip().splitlines()
    assert "TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET" in line and "twilio setup" in line
