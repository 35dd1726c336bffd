"""The one settings object. Every value comes from an ``EXSCHED_…`` environment variable.

With nothing set, exsched runs embedded: SQLite in ``var/``, an in-process bus and a file
outbox. Production sets three URLs: database, AMQP and SMTP.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "exsched-development-only-secret-change-me"  # noqa: S105 (flagged at start-up)


def amqp_endpoints(url: str) -> list[str]:
    """The brokers ``EXSCHED_AMQP_URL`` names: one AMQP URL, or several separated by commas (the
    nodes of a cluster, tried in turn)."""
    found = [part.strip() for part in url.split(",") if part.strip()]
    if not found:
        raise ValueError("EXSCHED_AMQP_URL names no broker")
    return found


class Settings(BaseSettings):
    """Runtime configuration; see the README's configuration reference."""

    model_config = SettingsConfigDict(env_prefix="EXSCHED_", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/exsched.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql://user@host/db",
    )
    amqp_url: str | None = Field(
        None,
        description="RabbitMQ URL, or several separated by commas (a cluster's nodes); unset: in-process",
    )
    smtp_url: str | None = Field(None, description="SMTP relay URL; unset = file outbox")
    outbox_dir: Path = Field(Path("var/outbox"), description="where the file outbox writes .eml")
    mail_from: str = Field("exsched <noreply@exsched.invalid>", description="From: of all mail")
    reply_address: str | None = Field(
        None,
        description="the ORGANIZER address of invitations, where calendar apps send their replies "
        "(a mailbox exsched reads); unset: the series' organizer's own address",
    )
    bounce_address: str | None = Field(
        None,
        description="the envelope sender of emails, one per notice (bounce@d → bounce+<notice-id>@d), "
        "where bounces come back; unset: the From address",
    )
    inbound_listen: str | None = Field(
        None, description="host:port `serve inbound` takes mail on (LMTP, or SMTP), e.g. 127.0.0.1:2525"
    )
    inbound_protocol: Literal["lmtp", "smtp"] = Field("lmtp", description="lmtp (an MTA's transport) or smtp")
    inbound_imap_url: str | None = Field(
        None, description="a hosted mailbox `serve inbound` reads by IMAP: imaps://user:password@host/INBOX"
    )
    inbound_imap_poll_seconds: float = Field(30.0, ge=1, le=3600, description="how often the mailbox is read")
    unsubscribe_mailto: str | None = Field(
        None,
        description="an address offered in List-Unsubscribe beside the https link (a mailbox staff read)",
    )
    public_url: str = Field(
        "", description="base URL of links and feeds; unset: http://<api_host>:<api_port> as served"
    )
    map_search_url: str = Field(
        "https://uri.amap.com/search?keyword={venue}",
        description="the map link beside a session's venue; {venue} is replaced by it (empty: no link)",
    )
    secret_key: str = Field(DEV_SECRET_KEY, description="signs tokens; set a long random value")
    log_format: Literal["console", "json"] = Field("console", description="console or json")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    api_host: str = Field("127.0.0.1", description="address `serve api` listens on")
    api_port: int = Field(8000, description="port `serve api` listens on")
    horizon_days: int = Field(60, ge=1, le=730, description="how far ahead notices are planned")
    lease_seconds: int = Field(
        600, ge=2, description="how long a published notice waits in the queue for a worker to take it"
    )
    send_lease_seconds: int = Field(
        30,
        ge=3,
        le=3600,
        description="how long a worker's claim on a notice lasts unless its heartbeat renews it "
        "(every third of it): a dead worker's notices go out again within about this much",
    )
    dispatch_batch: int = Field(1000, ge=1, le=10000, description="notices claimed per transaction")
    dispatch_parallel: int = Field(
        2, ge=1, le=16, description="batches in flight at once while a backlog drains (PostgreSQL)"
    )
    publish_window: int = Field(1000, ge=1, le=100000, description="unconfirmed messages in flight")
    feed_past_days: int = Field(90, ge=0, le=3650, description="how far back calendar feeds reach")
    feed_ahead_days: int = Field(365, ge=1, le=3650, description="how far ahead calendar feeds reach")
    robot_local_targets: bool = Field(
        False, description="let chat robots post to loopback or link-local addresses (a relay on this host)"
    )
    feed_cache_mb: int = Field(64, ge=0, le=65536, description="memory the API keeps rendered feeds in")
    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="port for /metrics, /healthz, /readyz of serve scheduler|worker"
    )
    worker_concurrency: int = Field(4, ge=1, le=64, description="sends in parallel per worker role")
    max_attempts: int = Field(8, ge=1, le=100, description="tries before a transient failure is final")

    _derived_public_url: bool = PrivateAttr(False)

    @field_validator("reply_address", "bounce_address", "unsubscribe_mailto")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        local, at, domain = value.rpartition("@")
        if value and (not at or not local or "." not in domain or any(c in value for c in " <>\r\n")):
            raise ValueError(f"{value!r} is not an address like sessions@assoc.example")
        return value or None

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _derive_public_url(self) -> Settings:
        if not self.public_url:
            self.public_url = served_url(self.api_host, self.api_port)
            self._derived_public_url = True
        return self

    def serving(self, host: str, port: int) -> Settings:
        """These settings for a process that serves on ``host:port``: without EXSCHED_PUBLIC_URL,
        links point at the address actually served, not at the default port."""
        changes: dict[str, object] = {"api_host": host, "api_port": port}
        if self._derived_public_url:
            changes["public_url"] = served_url(host, port)
        served = self.model_copy(update=changes)
        served._derived_public_url = self._derived_public_url
        return served

    @property
    def public_url_derived(self) -> bool:
        return self._derived_public_url

    @property
    def uses_dev_secret(self) -> bool:
        return self.secret_key == DEV_SECRET_KEY


def served_url(host: str, port: int) -> str:
    """``http://host:port`` as a browser on this machine reaches it (a wildcard address is local)."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (naming the wildcard, not binding it)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once from the environment (tests build their own ``Settings``)."""
    return Settings()
