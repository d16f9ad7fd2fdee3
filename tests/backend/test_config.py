"""Configuration: development generates and keeps its secrets; production refuses to start without them."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from backend import config
from backend.app import create_app
from tests.conftest import backend_test_config


def test_development_generates_and_keeps_secrets(tmp_path):
    first = config.load(tmp_path, environ={})
    second = config.load(tmp_path, environ={})
    assert first["NRM_ENV"] == "development"
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) >= 32
    assert first["FIELD_ENCRYPTION_KEY"] == second["FIELD_ENCRYPTION_KEY"]
    assert (tmp_path / config.FIELD_KEY_FILE).stat().st_mode & 0o077 == 0
    assert first["DATABASE_URL"] == f"sqlite:///{tmp_path / 'nrm.sqlite3'}"
    assert (first["RG_WORKING_DAYS"], first["DRAFT_EXPIRY_DAYS"]) == (5, 7)


def test_environment_and_overrides():
    env = {"DATABASE_URL": "postgres://u:p@h/db", "RG_WORKING_DAYS": "3", "SECRET_KEY": "s" * 40,
           "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(), "PUBLIC_BASE_URL": "https://x.example/"}
    settings = config.load("/nonexistent", {"DRAFT_EXPIRY_DAYS": 9}, environ=env)
    assert settings["DATABASE_URL"] == "postgresql+psycopg://u:p@h/db"
    assert (settings["RG_WORKING_DAYS"], settings["DRAFT_EXPIRY_DAYS"]) == (3, 9)
    assert settings["PUBLIC_BASE_URL"] == "https://x.example"


def test_production_refuses_without_secrets(tmp_path):
    with pytest.raises(config.ConfigError) as refused:
        config.load(tmp_path, environ={"NRM_ENV": "production", "SECRET_KEY": "x" * 40})
    assert "FIELD_ENCRYPTION_KEY" in str(refused.value) and "TWILIO_AUTH_TOKEN" in str(refused.value)
    assert "AUDIT_KEY" in str(refused.value)
    assert not (tmp_path / config.FIELD_KEY_FILE).exists()
    with pytest.raises(config.ConfigError):
        create_app(backend_test_config(tmp_path, NRM_ENV="production"))


def test_production_starts_with_secrets(tmp_path):
    env = {"NRM_ENV": "production", "SECRET_KEY": "x" * 40, "TWILIO_AUTH_TOKEN": "t", "AUDIT_KEY": "a" * 64,
           "FIELD_ENCRYPTION_KEY": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"}
    assert config.load(tmp_path, environ=env)["NRM_ENV"] == "production"


def test_bad_values_are_clear_errors(tmp_path):
    with pytest.raises(config.ConfigError, match="NRM_ENV"):
        config.load(tmp_path, environ={"NRM_ENV": "prod"})
    with pytest.raises(config.ConfigError, match="not a Fernet key"):
        config.load(tmp_path, environ={"FIELD_ENCRYPTION_KEY": "short"})
    with pytest.raises(config.ConfigError, match="RG_WORKING_DAYS"):
        config.load(tmp_path, environ={"RG_WORKING_DAYS": "five"})


def test_resume_code_throttle_settings(tmp_path):
    settings = config.load(tmp_path, environ={})
    assert (settings["RESUME_CODE_MAX_FAILURES"], settings["RESUME_CODE_FAILURE_WINDOW_MINUTES"]) == (5, 15)
    env = {"RESUME_CODE_MAX_FAILURES": "3", "RESUME_CODE_FAILURE_WINDOW_MINUTES": "60"}
    settings = config.load(tmp_path, environ=env)
    assert (settings["RESUME_CODE_MAX_FAILURES"], settings["RESUME_CODE_FAILURE_WINDOW_MINUTES"]) == (3, 60)
    with pytest.raises(config.ConfigError, match="RESUME_CODE_MAX_FAILURES"):
        config.load(tmp_path, environ={"RESUME_CODE_MAX_FAILURES": "0"})


def test_audit_key_is_generated_in_development_and_required_in_production(tmp_path):
    first = config.load(tmp_path / "dev", environ={})
    assert first["AUDIT_KEY"] == config.load(tmp_path / "dev", environ={})["AUDIT_KEY"]
    assert (tmp_path / "dev" / config.AUDIT_KEY_FILE).stat().st_mode & 0o077 == 0
    env = {"NRM_ENV": "production", "SECRET_KEY": "x" * 40, "TWILIO_AUTH_TOKEN": "t",
           "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    with pytest.raises(config.ConfigError, match="without AUDIT_KEY"):
        config.load(tmp_path / "prod", environ=env)
    assert not (tmp_path / "prod" / config.AUDIT_KEY_FILE).exists()
    with pytest.raises(config.ConfigError, match="AUDIT_KEY must be at least"):
        config.load(tmp_path / "prod", environ={**env, "AUDIT_KEY": "short"})
    assert config.load(tmp_path / "prod", environ={**env, "AUDIT_KEY": "k" * 64})["AUDIT_KEY"] == "k" * 64


def test_recovery_period_below_the_30_day_legal_minimum_is_refused_at_startup(tmp_path, monkeypatch):
    with pytest.raises(config.ConfigError, match="below the legal minimum recovery period of 30 days"):
        create_app(backend_test_config(tmp_path, RECOVERY_PERIOD_DAYS=29))
    with pytest.raises(config.ConfigError, match="RECOVERY_PERIOD_DAYS is 14"):
        config.load(tmp_path, environ={"RECOVERY_PERIOD_DAYS": "14"})
    assert config.load(tmp_path, environ={"RECOVERY_PERIOD_DAYS": "30"})["RECOVERY_PERIOD_DAYS"] == 30

    from click.testing import CliRunner

    from bot.cli import main

    monkeypatch.setenv("NRM_INSTANCE_PATH", str(tmp_path / "cli"))
    monkeypatch.setenv("RECOVERY_PERIOD_DAYS", "14")
    result = CliRunner().invoke(main, ["stats"])
    assert result.exit_code == 1
    assert "cannot start: RECOVERY_PERIOD_DAYS is 14, below the legal minimum" in result.output
    assert "Traceback" not in result.output


def test_case_clock_settings(tmp_path):
    settings = config.load(tmp_path, environ={})
    assert (settings["CG_WORKING_DAYS"], settings["REVIEW_WORKING_DAYS"]) == (20, 10)
    assert settings["RETURNED_TO_ANOTHER_CASEWORKER"] is True
    settings = config.load(tmp_path, environ={"RETURNED_TO_ANOTHER_CASEWORKER": "false", "CG_WORKING_DAYS": "15"})
    assert settings["RETURNED_TO_ANOTHER_CASEWORKER"] is False and settings["CG_WORKING_DAYS"] == 15
    with pytest.raises(config.ConfigError, match="RETURNED_TO_ANOTHER_CASEWORKER must be true or false"):
        config.load(tmp_path, environ={"RETURNED_TO_ANOTHER_CASEWORKER": "maybe"})


def test_every_default_rate_limit_reads_as_flask_limiter_reads_it():
    """config.load checks only the limits someone set (the defaults skip importing ``limits``):
    so every default must read."""
    from limits import parse_many

    for key, value in config.RATE_LIMIT_DEFAULTS.items():
        if key != "RATELIMIT_STORAGE_URI":
            assert parse_many(value), key


def test_rate_limits_come_from_the_environment_and_a_bad_one_stops_the_start(tmp_path):
    settings = config.load(tmp_path, environ={})
    assert settings["SIGN_IN_RATE_LIMIT"] == config.RATE_LIMIT_DEFAULTS["SIGN_IN_RATE_LIMIT"]
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://" and settings["TRUSTED_PROXIES"] == 0
    settings = config.load(tmp_path, environ={"API_RATE_LIMIT": "5 per second", "TRUSTED_PROXIES": "1"})
    assert (settings["API_RATE_LIMIT"], settings["TRUSTED_PROXIES"]) == ("5 per second", 1)
    with pytest.raises(config.ConfigError, match="CHAT_RATE_LIMIT"):
        config.load(tmp_path, environ={"CHAT_RATE_LIMIT": "lots"})
    with pytest.raises(config.ConfigError, match="SESSION_IDLE_MINUTES"):
        config.load(tmp_path, environ={"SESSION_IDLE_MINUTES": "0"})


def test_log_format_and_metrics_access_come_from_the_environment(tmp_path):
    settings = config.load(tmp_path, environ={"NRM_LOG_FORMAT": "JSON", "NRM_METRICS_TOKEN": "m" * 32,
                                              "NRM_METRICS_NETWORKS": "10.0.0.0/8, 192.0.2.7",
                                              "JOBS_INTERVAL_SECONDS": "300"})
    assert settings["NRM_LOG_FORMAT"] == "json" and settings["NRM_METRICS_TOKEN"] == "m" * 32
    assert [str(network) for network in settings["NRM_METRICS_NETWORKS"]] == ["10.0.0.0/8", "192.0.2.7/32"]
    assert settings["JOBS_INTERVAL_SECONDS"] == 300
    defaults = config.load(tmp_path, environ={})
    assert (defaults["NRM_LOG_FORMAT"], defaults["NRM_METRICS_TOKEN"], defaults["NRM_METRICS_NETWORKS"],
            defaults["JOBS_INTERVAL_SECONDS"]) == ("text", None, (), 60)


@pytest.mark.parametrize("key, value, says", [
    ("NRM_LOG_FORMAT", "xml", "NRM_LOG_FORMAT must be one of json, text"),
    ("NRM_METRICS_TOKEN", "short", "NRM_METRICS_TOKEN must be at least 32 characters"),
    ("NRM_METRICS_NETWORKS", "10.0.0.0/8,intranet", "NRM_METRICS_NETWORKS must list addresses or networks"),
])
def test_bad_log_format_or_metrics_access_stops_the_start(tmp_path, key, value, says):
    with pytest.raises(config.ConfigError, match=says):
        config.load(tmp_path, environ={key: value})
