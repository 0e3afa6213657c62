"""Settings: read once from an explicit mapping (the environment in production, a dict in tests).

Every name is prefixed ``HOTLINE_`` in the environment. Production refuses to start with a
missing or placeholder secret; development fills in what it can and says so.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

log = logging.getLogger(__name__)

PREFIX = "HOTLINE_"
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token
PLACEHOLDERS = {
    "",
    "changeme",
    "change-me",
    "change_me",
    "changethis",
    "secret",
    "placeholder",
    "xxx",
    "todo",
    "example",
}


class SettingsError(ValueError):
    """The settings cannot be used as given."""


class Settings(BaseModel):
    """Everything the hotline reads from its environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///./var/hotline.db"
    public_url: str = ""
    encryption_keys: str = ""
    var_dir: str = "./var"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_url: str = "https://api.telegram.org"

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_api_url: str = "https://api.twilio.com"

    ngo_name: str = "Border Hotline"
    ngo_phone: str = ""
    default_language: str = "en"
    poll_interval: float = Field(default=2.0, gt=0)
    page_on_console: bool = True
    escalation_policy: str = ""  # a policy file replacing the shipped hotline/flows/escalation.yaml
    page_location: bool = False  # put exact coordinates in pages themselves (see README: the risk)

    @field_validator("public_url", "telegram_api_url", "twilio_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> Settings:
        """Build settings from ``HOTLINE_*`` keys of a mapping, ignoring every other key."""
        values = {
            key[len(PREFIX) :].lower(): value
            for key, value in mapping.items()
            if key.startswith(PREFIX) and key[len(PREFIX) :].lower() in cls.model_fields
        }
        unknown = sorted(
            key for key in mapping if key.startswith(PREFIX) and key[len(PREFIX) :].lower() not in cls.model_fields
        )
        if unknown:
            log.warning("ignoring unknown settings: %s", ", ".join(unknown))
        return cls.model_validate(values)

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from the process environment."""
        return cls.from_mapping(os.environ)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid)

    def key_list(self) -> list[bytes]:
        """Return the encryption keys, newest first, decoded from URL-safe base64."""
        return [decode_key(part) for part in self.encryption_keys.split(",") if part.strip()]

    def check(self) -> None:
        """Refuse settings that would be unsafe to run with; raise ``SettingsError`` naming the problem."""
        problems: list[str] = []
        if self.encryption_keys:
            try:
                self.key_list()
            except ValueError as exc:
                problems.append(f"HOTLINE_ENCRYPTION_KEYS: {exc}")
        if self.telegram_webhook_secret and not WEBHOOK_SECRET.fullmatch(self.telegram_webhook_secret):
            problems.append("HOTLINE_TELEGRAM_WEBHOOK_SECRET may only use A-Z, a-z, 0-9, _ and - (1 to 256 characters)")
        if self.production:
            problems += self._production_problems()
        if problems:
            raise SettingsError("; ".join(problems))

    def _production_problems(self) -> list[str]:
        problems = []
        if not self.encryption_keys.strip():
            problems.append("HOTLINE_ENCRYPTION_KEYS is required in production")
        required = {"HOTLINE_DATABASE_URL": self.database_url}
        if self.telegram_enabled:
            required["HOTLINE_TELEGRAM_TOKEN"] = self.telegram_token
            if self.public_url:
                required["HOTLINE_TELEGRAM_WEBHOOK_SECRET"] = self.telegram_webhook_secret
        if self.twilio_enabled:
            required["HOTLINE_TWILIO_AUTH_TOKEN"] = self.twilio_auth_token
            required["HOTLINE_TWILIO_FROM"] = self.twilio_from
            required["HOTLINE_PUBLIC_URL"] = self.public_url
        for name, value in required.items():
            if is_placeholder(value):
                problems.append(f"{name} is missing or a placeholder")
        if self.public_url and not self.public_url.startswith("https://"):
            problems.append("HOTLINE_PUBLIC_URL must be https:// in production")
        return problems

    def with_development_key(self) -> Settings:
        """Return settings with an encryption key, generating one under ``var_dir`` in development."""
        if self.encryption_keys.strip():
            return self
        if self.production:
            raise SettingsError("HOTLINE_ENCRYPTION_KEYS is required in production")
        path = Path(self.var_dir) / "encryption.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(generate_key() + "\n")
            log.warning("generated a development encryption key in %s; set HOTLINE_ENCRYPTION_KEYS in production", path)
        return self.model_copy(update={"encryption_keys": path.read_text().strip()})


def is_placeholder(value: str) -> bool:
    """Tell whether a secret is empty or an obvious placeholder."""
    return value.strip().lower() in PLACEHOLDERS or value.strip().lower().startswith("change")


def generate_key() -> str:
    """Return a new random 256-bit key in URL-safe base64."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def decode_key(text: str) -> bytes:
    """Decode one key; it must be 32 bytes of URL-safe base64."""
    text = text.strip()
    if is_placeholder(text):
        raise ValueError("a key is a placeholder")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (ValueError, TypeError) as exc:
        raise ValueError("a key is not valid base64") from exc
    if len(key) != 32:
        raise ValueError("each key must be 32 bytes (use `hotline keys generate`)")
    return key
