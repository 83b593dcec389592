from __future__ import annotations

import pytest

from config import DEFAULT_SQLITE_URL, SettingsError, env_documentation, load_settings

SIMULATOR = {"SIMULATOR_ENABLED": "true"}


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
    environ = {
        "DATABASE_URL": "postgresql+psycopg://postgres@db/cc",
        "REDIS_URL": "redis://cache:6379/0",
        "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:5000/fake-twilio",
        "TWILIO_PHONE_NUMBER": "+441484000000",
        "PUBLIC_BASE_URL": "https://phone.kirklees.example",
        "SECRET_KEY": "s3cret",
        "SIMULATOR_ENABLED": "no",
        "LOG_LEVEL": "DEBUG",
        "LOG_JSON": "1",
        "CALL_DATA_RETENTION_DAYS": "30",
        "DEFAULT_REGION": "GB",
        "RQ_QUEUE_NAME": "cc",
    }
    assert set(environ) == set(env_documentation())
    settings = load_settings(environ)
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.public_base_url == "https://phone.kirklees.example"
    assert settings.log_json is True
    assert settings.simulator_enabled is False
    assert settings.call_data_retention_days == 30


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
