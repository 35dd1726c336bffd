"""The one settings object. Every value comes from an ``EXSCHED_…`` environment variable.

With nothing set, exsched runs embedded: SQLite in ``var/``, an in-process bus and a file
outbox. Production sets three URLs: database, AMQP and SMTP.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "exsched-development-only-secret-change-me"  # noqa: S105 (flagged at start-up)


class Settings(BaseSettings):
    """Runtime configuration; see the README's configuration reference."""

    model_config = SettingsConfigDict(env_prefix="EXSCHED_", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/exsched.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql://user@host/db",
    )
    amqp_url: str | None = Field(None, description="RabbitMQ URL; unset = in-process bus")
    smtp_url: str | None = Field(None, description="SMTP relay URL; unset = file outbox")
    outbox_dir: Path = Field(Path("var/outbox"), description="where the file outbox writes .eml")
    mail_from: str = Field("exsched <noreply@exsched.invalid>", description="From: of all mail")
    public_url: str = Field("http://127.0.0.1:8000", description="base URL used in links and feeds")
    secret_key: str = Field(DEV_SECRET_KEY, description="signs tokens; set a long random value")
    log_format: Literal["console", "json"] = Field("console", description="console or json")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    api_host: str = Field("127.0.0.1", description="address `serve api` listens on")
    api_port: int = Field(8000, description="port `serve api` listens on")
    horizon_days: int = Field(60, ge=1, le=730, description="how far ahead notices are planned")
    lease_seconds: int = Field(
        600, ge=2, description="how long a published or sending notice waits for a worker's answer"
    )
    dispatch_batch: int = Field(1000, ge=1, le=10000, description="notices claimed per transaction")
    publish_window: int = Field(1000, ge=1, le=100000, description="unconfirmed messages in flight")
    feed_past_days: int = Field(90, ge=0, le=3650, description="how far back calendar feeds reach")
    feed_ahead_days: int = Field(365, ge=1, le=3650, description="how far ahead calendar feeds reach")
    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="port for /metrics, /healthz, /readyz of serve scheduler|worker"
    )
    worker_concurrency: int = Field(4, ge=1, le=64, description="sends in parallel per worker role")
    max_attempts: int = Field(8, ge=1, le=100, description="tries before a transient failure is final")

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def uses_dev_secret(self) -> bool:
        return self.secret_key == DEV_SECRET_KEY


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once from the environment (tests build their own ``Settings``)."""
    return Settings()
