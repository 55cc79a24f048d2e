"""Settings: ``TRACKER_*`` environment variables over an optional TOML file.

The file is ``--config FILE``, else ``TRACKER_CONFIG``, else ``./tracker.toml`` when it
exists. Environment variables win over the file, so an operator can override one value
(say the SMTP password) without editing it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from platformdirs import user_data_path
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tracker.errors import ConfigError

APP_NAME = "contract-tracker"


class Settings(BaseSettings):
    """Everything an operator can set; see README "Settings"."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_", extra="ignore")

    database_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_timeout: float = 30.0
    #: Verify the SMTP server's TLS certificate (the default). Turning it off accepts any
    #: certificate, self-signed included: only for a relay on a network you control.
    smtp_tls_verify: bool = True
    #: A CA bundle (PEM) to trust for the SMTP server, e.g. an organisation's private CA.
    smtp_ca_file: Path | None = None
    mail_from: str = "contract-tracker@localhost"
    outbox_dir: Path | None = None
    #: Reminders claimed (and sent over one SMTP connection) per batch.
    send_batch_size: int = Field(default=100, ge=1, le=10_000)
    #: How long a claim is held before another instance may take it over (seconds).
    lease_seconds: int = Field(default=300, ge=5)
    #: A temporary failure is retried with backoff for this long after the first attempt
    #: (hours; 5 days, like Postfix's maximal_queue_lifetime and RFC 5321 4.5.4.1).
    retry_max_hours: float = Field(default=120.0, gt=0)
    #: At most this many messages a minute, across every instance sharing the database
    #: (a relay's limit is per mailbox); None: no limit.
    smtp_max_per_minute: int | None = Field(default=None, ge=1)
    #: SQLite only: how long a writer waits for another's lock before giving up (ms).
    sqlite_busy_timeout_ms: int | None = Field(default=None, ge=0)
    #: How often `tracker run` sweeps (seconds).
    sweep_interval_seconds: int = Field(default=60, ge=1)
    #: Who makes the changes this process records, when ``--by`` is not given (the OS
    #: user when neither is): TRACKER_ACTOR.
    actor: str | None = Field(default=None, max_length=320)
    #: The public address of `tracker serve` (https://tracker.example.org), used for the
    #: links in emails; without it emails carry no links and stay as they were.
    base_url: str | None = None
    #: Signs the links in emails (TRACKER_SECRET_KEY). Never logged nor shown.
    secret_key: SecretStr | None = None
    #: How long a link in an email can be used (days).
    link_valid_days: int = Field(default=60, ge=1, le=3650)
    #: Who sees and acts on every contract in the web app (TRACKER_ADMINS, addresses
    #: separated by commas); everyone else sees the contracts they own, sponsor or watch.
    admins: Annotated[tuple[str, ...], NoDecode] = ()
    #: Overrides of config/policy.toml, as a nested table ``[policy]`` in the TOML file.
    policy: dict[str, Any] = {}

    @field_validator("base_url")
    @classmethod
    def _public_address(cls, value: str | None) -> str | None:
        """An http(s) address with no query, kept without its trailing slash: every link
        is ``{base_url}/act/...``, so the address must be one a mail client can open."""
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("is not an http(s) address such as https://tracker.example.org")
        return url

    @field_validator("admins", mode="before")
    @classmethod
    def _addresses(cls, value: Any) -> tuple[str, ...]:
        """Comma-separated in the environment, a list in the TOML file; each by the one
        email rule, lower-cased as every stored address is."""
        from tracker.domain.emails import parse_email
        from tracker.errors import InvalidValue

        items = value.split(",") if isinstance(value, str) else list(value or ())
        try:
            return tuple(parse_email(str(i), "admins") for i in items if str(i).strip())
        except InvalidValue as exc:
            raise ValueError(str(exc).removeprefix("Error: ")) from None

    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file in the user's data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{default_data_dir() / 'tracker.db'}"

    def resolved_outbox_dir(self) -> Path:
        return self.outbox_dir or default_data_dir() / "outbox"


def default_data_dir() -> Path:
    return user_data_path(APP_NAME, appauthor=False)


def _config_path(explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"--config: {str(explicit)!r} is not a readable file")
        return explicit
    from_env = os.environ.get("TRACKER_CONFIG")
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"TRACKER_CONFIG: {from_env!r} is not a readable file")
        return path
    local = Path("tracker.toml")
    return local if local.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read settings; any problem becomes one ConfigError line naming the setting."""
    path = _config_path(config_file)
    if path is not None:
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config file {str(path)!r}: {exc}") from None

    class _FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if path is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            return tuple(sources)

    try:
        return _FileSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"setting {name}: {first.get('input')!r} {first['msg'].lower()} "
            f"(from TRACKER_{name.upper()} or the config file)"
        ) from None
