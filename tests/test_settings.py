"""Settings: an explicit mapping in, production refusals out, and the development key on disk."""

from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from hotline.api.app import create_app
from hotline.settings import Settings, SettingsError, generate_key
from hotline.storage import db


def production_values(**overrides: str) -> dict[str, str]:
    """Return a production mapping with every secret set right; overrides replace or (with "") blank keys."""
    values = {
        "HOTLINE_ENV": "production",
        "HOTLINE_DATABASE_URL": "postgresql+psycopg://hotline@db.internal/hotline",
        "HOTLINE_ENCRYPTION_KEYS": generate_key(),
        "HOTLINE_PUBLIC_URL": "https://hotline.example.org",
        "HOTLINE_TELEGRAM_TOKEN": "123456:real-looking-token",
        "HOTLINE_TELEGRAM_WEBHOOK_SECRET": "s3cr3t-webhook-value-0123456789",
        "HOTLINE_TWILIO_ACCOUNT_SID": "AC-fictional-test-account",
        "HOTLINE_TWILIO_AUTH_TOKEN": "twilio-auth-token-0123456789",
        "HOTLINE_TWILIO_FROM": "+37060000000",
    }
    values.update(overrides)
    return values


def refusal(values: dict[str, str]) -> str:
    """Check settings that must be refused; return the error message."""
    settings = Settings.from_mapping(values)
    with pytest.raises(SettingsError) as caught:
        settings.check()
    return str(caught.value)


# --- reading the mapping ---------------------------------------------------------------------------


def test_settings_come_from_hotline_keys_only() -> None:
    settings = Settings.from_mapping(
        {
            "HOTLINE_PORT": "9123",
            "HOTLINE_NGO_NAME": "Forest Line",
            "HOTLINE_PUBLIC_URL": "https://example.org/",
            "PORT": "1",
            "DATABASE_URL": "postgresql://elsewhere/db",
            "PATH": "/usr/bin",
            "hotline_log_level": "DEBUG",
        }
    )
    assert settings.port == 9123
    assert settings.ngo_name == "Forest Line"
    assert settings.public_url == "https://example.org"
    assert settings.database_url == Settings().database_url
    assert settings.log_level == "INFO"


def test_unknown_hotline_keys_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hotline.settings"):
        settings = Settings.from_mapping({"HOTLINE_TELEGRAM_TOKN": "typo", "HOTLINE_PORT": "8001"})
    assert settings.port == 8001
    assert settings.telegram_token == ""
    assert "HOTLINE_TELEGRAM_TOKN" in caplog.text


def test_a_mapping_never_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_NGO_NAME", "From The Environment")
    monkeypatch.setenv("HOTLINE_PORT", "9999")
    assert Settings.from_env().ngo_name == "From The Environment"
    settings = Settings.from_mapping({})
    assert settings.ngo_name == "Border Hotline"
    assert settings.port == 8000


# --- production refusals ---------------------------------------------------------------------------


def test_production_with_everything_right_passes() -> None:
    settings = Settings.from_mapping(production_values())
    assert settings.production
    settings.check()
    assert len(settings.key_list()) == 1 and len(settings.key_list()[0]) == 32


def test_production_with_telegram_long_polling_needs_no_webhook_secret() -> None:
    values = production_values(HOTLINE_PUBLIC_URL="", HOTLINE_TELEGRAM_WEBHOOK_SECRET="")
    for key in ("HOTLINE_TWILIO_ACCOUNT_SID", "HOTLINE_TWILIO_AUTH_TOKEN", "HOTLINE_TWILIO_FROM"):
        del values[key]
    Settings.from_mapping(values).check()


def test_production_refuses_no_encryption_key() -> None:
    message = refusal(production_values(HOTLINE_ENCRYPTION_KEYS=""))
    assert "HOTLINE_ENCRYPTION_KEYS" in message
    assert "required" in message


def test_production_refuses_a_placeholder_key() -> None:
    message = refusal(production_values(HOTLINE_ENCRYPTION_KEYS="change-me"))
    assert "HOTLINE_ENCRYPTION_KEYS" in message
    assert "placeholder" in message


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("abcde", "not valid base64"),
        (base64.urlsafe_b64encode(b"k" * 16).decode(), "32 bytes"),
        (base64.urlsafe_b64encode(b"k" * 48).decode(), "32 bytes"),
    ],
    ids=["not-base64", "too-short", "too-long"],
)
def test_production_refuses_a_malformed_key(key: str, reason: str) -> None:
    message = refusal(production_values(HOTLINE_ENCRYPTION_KEYS=key))
    assert "HOTLINE_ENCRYPTION_KEYS" in message
    assert reason in message


def test_a_malformed_second_key_is_refused_too() -> None:
    message = refusal(production_values(HOTLINE_ENCRYPTION_KEYS=f"{generate_key()},abcde"))
    assert "HOTLINE_ENCRYPTION_KEYS" in message


def test_development_also_refuses_a_malformed_key() -> None:
    message = refusal({"HOTLINE_ENCRYPTION_KEYS": "abcde"})
    assert "HOTLINE_ENCRYPTION_KEYS" in message


@pytest.mark.parametrize("secret", ["", "change-me", "changeme", "placeholder"])
def test_production_refuses_a_public_telegram_webhook_without_a_real_secret(secret: str) -> None:
    message = refusal(production_values(HOTLINE_TELEGRAM_WEBHOOK_SECRET=secret))
    assert "HOTLINE_TELEGRAM_WEBHOOK_SECRET" in message
    assert "HOTLINE_ENCRYPTION_KEYS" not in message


def test_production_refuses_twilio_without_an_auth_token() -> None:
    message = refusal(production_values(HOTLINE_TWILIO_AUTH_TOKEN=""))
    assert "HOTLINE_TWILIO_AUTH_TOKEN" in message
    assert "HOTLINE_TELEGRAM_WEBHOOK_SECRET" not in message


def test_production_refuses_a_plain_http_public_url() -> None:
    message = refusal(production_values(HOTLINE_PUBLIC_URL="http://hotline.example.org"))
    assert "HOTLINE_PUBLIC_URL" in message
    assert "https://" in message


def test_development_accepts_what_production_refuses() -> None:
    values = production_values(
        HOTLINE_ENV="development",
        HOTLINE_ENCRYPTION_KEYS="",
        HOTLINE_PUBLIC_URL="http://localhost:8000",
        HOTLINE_TELEGRAM_WEBHOOK_SECRET="",
        HOTLINE_TWILIO_AUTH_TOKEN="",
    )
    Settings.from_mapping(values).check()


def test_every_problem_is_named_at_once() -> None:
    message = refusal(
        production_values(HOTLINE_ENCRYPTION_KEYS="", HOTLINE_TWILIO_AUTH_TOKEN="", HOTLINE_PUBLIC_URL="http://x.org")
    )
    for name in ("HOTLINE_ENCRYPTION_KEYS", "HOTLINE_TWILIO_AUTH_TOKEN", "HOTLINE_PUBLIC_URL"):
        assert name in message


# --- the development key ---------------------------------------------------------------------------


def test_development_generates_a_private_key_file_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    var_dir = tmp_path / "var"
    settings = Settings.from_mapping({"HOTLINE_VAR_DIR": str(var_dir)})
    path = var_dir / "encryption.key"
    assert not path.exists()

    with caplog.at_level(logging.WARNING, logger="hotline.settings"):
        first = settings.with_development_key()
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(path) in caplog.text
    assert first.encryption_keys == path.read_text().strip()
    assert len(base64.urlsafe_b64decode(first.encryption_keys)) == 32
    assert first.key_list() == [base64.urlsafe_b64decode(first.encryption_keys)]
    assert settings.encryption_keys == ""  # the original settings are not changed

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hotline.settings"):
        second = Settings.from_mapping({"HOTLINE_VAR_DIR": str(var_dir)}).with_development_key()
    assert second.encryption_keys == first.encryption_keys
    assert "generated" not in caplog.text


def test_a_configured_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    key = generate_key()
    settings = Settings.from_mapping({"HOTLINE_VAR_DIR": str(tmp_path), "HOTLINE_ENCRYPTION_KEYS": key})
    assert settings.with_development_key().encryption_keys == key
    assert not (tmp_path / "encryption.key").exists()


def test_production_never_generates_a_key(tmp_path: Path) -> None:
    settings = Settings.from_mapping(production_values(HOTLINE_ENCRYPTION_KEYS="", HOTLINE_VAR_DIR=str(tmp_path)))
    with pytest.raises(SettingsError, match="HOTLINE_ENCRYPTION_KEYS"):
        settings.with_development_key()
    assert not (tmp_path / "encryption.key").exists()


def test_generated_keys_are_32_random_bytes() -> None:
    keys = {generate_key() for _ in range(5)}
    assert len(keys) == 5
    assert all(len(base64.urlsafe_b64decode(key)) == 32 for key in keys)


# --- create_app -----------------------------------------------------------------------------------


def test_production_refuses_an_unmigrated_database(settings_values: dict[str, str]) -> None:
    settings = Settings.from_mapping({**settings_values, "HOTLINE_ENV": "production"})
    settings.check()
    database = db.open_database(settings)
    try:
        with pytest.raises(SettingsError, match="hotline db upgrade"):
            create_app(settings, database=database, run_workers=False)
        assert not db.migrations_current(database)
        db.upgrade(database)
        app = create_app(settings, database=database, run_workers=False)
        assert app.state.database is database
    finally:
        database.dispose()


def test_production_create_app_checks_the_settings_first(settings_values: dict[str, str]) -> None:
    settings = Settings.from_mapping({**settings_values, "HOTLINE_ENV": "production", "HOTLINE_ENCRYPTION_KEYS": ""})
    with pytest.raises(SettingsError, match="HOTLINE_ENCRYPTION_KEYS"):
        create_app(settings, run_workers=False)


@pytest.mark.parametrize(
    "mangle", [lambda k: k[:10] + "!" + k[10:], lambda k: k[:10] + " " + k[10:], lambda k: k + "*"]
)
def test_a_mangled_key_is_refused_not_silently_repaired(mangle: Any) -> None:
    from hotline.settings import decode_key, generate_key

    with pytest.raises(ValueError):
        decode_key(mangle(generate_key()))


@pytest.mark.parametrize("secret", ["has space", "plus+slash/", "x" * 257])
def test_a_webhook_secret_telegram_would_refuse_is_refused_at_start(secret: str) -> None:
    settings = Settings.from_mapping(
        {"HOTLINE_TELEGRAM_WEBHOOK_SECRET": secret, "HOTLINE_ENCRYPTION_KEYS": generate_key()}
    )
    with pytest.raises(SettingsError, match="HOTLINE_TELEGRAM_WEBHOOK_SECRET"):
        settings.check()
