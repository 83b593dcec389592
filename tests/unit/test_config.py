from __future__ import annotations

import pytest

from config import DEFAULT_SQLITE_URL, SettingsError, env_documentation, load_settings

SIMULATOR = {"SIMULATOR_ENABLED": "true"}
# Settings whose shape is checked: a value of the right shape for each.
SHAPED = {"TWILIO_API_KEY_SID": "SK" + "1f" * 16, "TWILIO_API_KEY_SECRET": "Abc123" * 5 + "xy"}
PRODUCTION = {
    "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
    "TWILIO_AUTH_TOKEN": "a-real-auth-token",
    "SECRET_KEY": "s" * 64,
    "REDIS_URL": "redis://cache:6379/0",
}


def test_embedded_default_needs_no_environment_beyond_simulator_mode():
    settings = load_settings(SIMULATOR)
    assert settings.database_url == DEFAULT_SQLITE_URL
    assert settings.redis_url is None
    assert settings.twilio_api_base_url == "https://api.twilio.com"
    assert settings.call_data_retention_days == 90


def test_production_refuses_to_start_without_secrets_and_names_them():
    with pytest.raises(SettingsError) as error:
        load_settings({"DATABASE_URL": "postgresql+psycopg://db/cc"})
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SECRET_KEY", "REDIS_URL"):
        assert name in str(error.value)


def test_every_documented_variable_is_read():
    """Each variable in the table reaches its setting; new settings are covered without editing this test."""
    from dataclasses import fields

    from config import Settings

    defaults = Settings()
    environ: dict[str, str] = {}
    expected: dict[str, object] = {}
    for name, attribute in env_documentation().items():
        default = getattr(defaults, attribute)
        if isinstance(default, bool):
            environ[name], expected[attribute] = ("0", False) if default else ("1", True)
        elif isinstance(default, int):
            environ[name], expected[attribute] = str(default + 7), default + 7
        elif name in SHAPED:
            environ[name] = expected[attribute] = SHAPED[name]
        else:
            environ[name] = expected[attribute] = f"configured-{attribute}"
    environ["SIMULATOR_ENABLED"], expected["simulator_enabled"] = "no", False
    settings = load_settings(environ)
    for attribute, value in expected.items():
        assert getattr(settings, attribute) == value, attribute
    assert set(env_documentation().values()) <= {f.name for f in fields(Settings)}


@pytest.mark.parametrize("raw", ["maybe", "2", "ture"])
def test_malformed_boolean_is_an_error_naming_the_variable(raw):
    with pytest.raises(SettingsError, match="SIMULATOR_ENABLED"):
        load_settings({"SIMULATOR_ENABLED": raw})


@pytest.mark.parametrize("raw", ["ninety", "-1", "3.5"])
def test_malformed_integer_is_an_error_naming_the_variable(raw):
    with pytest.raises(SettingsError, match="CALL_DATA_RETENTION_DAYS"):
        load_settings({**SIMULATOR, "CALL_DATA_RETENTION_DAYS": raw})


def test_readme_documents_every_environment_variable():
    from tests.conftest import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    example = (REPO_ROOT / ".env.example").read_text()
    for name in env_documentation():
        assert f"`{name}`" in readme, f"{name} missing from the README configuration table"
        assert f"{name}=" in example, f"{name} missing from .env.example"


def test_a_short_metrics_token_is_refused():
    with pytest.raises(SettingsError, match="METRICS_TOKEN"):
        load_settings({**SIMULATOR, "METRICS_TOKEN": "secret"})


@pytest.mark.parametrize(
    "name",
    ["LOGIN_ATTEMPTS_PER_ACCOUNT", "LOGIN_THROTTLE_WINDOW_SECONDS", "DATABASE_CONNECT_TIMEOUT_SECONDS"],
)
def test_limits_and_timeouts_that_would_mean_never_are_refused(name):
    with pytest.raises(SettingsError, match=name):
        load_settings({**SIMULATOR, name: "0"})


def test_the_statement_timeout_can_be_turned_off():
    assert (
        load_settings({**SIMULATOR, "DATABASE_STATEMENT_TIMEOUT_MS": "0"}).database_statement_timeout_ms == 0
    )


def test_the_web_app_also_needs_the_softphone_api_key_and_says_how_to_get_one():
    assert load_settings(PRODUCTION).twilio_api_key_sid.startswith("SK"), "the worker and commands need none"
    with pytest.raises(SettingsError) as error:
        load_settings(PRODUCTION, web=True)
    message = str(error.value)
    assert "TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET" in message
    assert "TWILIO_ACCOUNT_SID" not in message
    assert "flask --app app twilio setup" in message
    configured = load_settings({**PRODUCTION, **SHAPED}, web=True)
    assert (configured.twilio_api_key_sid, configured.twilio_api_key_secret) == (
        SHAPED["TWILIO_API_KEY_SID"],
        SHAPED["TWILIO_API_KEY_SECRET"],
    )


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("TWILIO_API_KEY_SID", "AC" + "1" * 32),  # the account SID in the key's place
        ("TWILIO_API_KEY_SID", "SK123"),
        ("TWILIO_API_KEY_SECRET", "too-short"),
        ("TWILIO_API_KEY_SECRET", "has spaces and is long enough 12"),
    ],
)
def test_a_malformed_api_key_is_refused_without_repeating_the_value(name, raw):
    with pytest.raises(SettingsError, match=name) as error:
        load_settings({**SIMULATOR, name: raw})
    assert raw not in str(error.value)
