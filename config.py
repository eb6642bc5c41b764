"""All settings, from the environment (and a .env file): one object for every process."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.tax import SellerProfile

DEV_SECRET = "l2c-dev-secret-change-me-in-production-0123456789"


class Settings(BaseSettings):
    """Where the servers are, and the knobs of l2c. Unset servers are started by `l2c dev`."""

    model_config = SettingsConfigDict(
        env_prefix="L2C_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # Servers (standard names). Unset means "l2c dev runs its own".
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    temporal_address: str | None = Field(default=None, alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", alias="TEMPORAL_NAMESPACE")
    smtp_host: str | None = Field(default=None, alias="SMTP_HOST")
    smtp_port: int = Field(default=1025, alias="SMTP_PORT")
    smtp_user: str | None = Field(default=None, alias="SMTP_USER")
    smtp_password: str | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=False, alias="SMTP_STARTTLS")

    # Ports and folders of the embedded dev stack (L2C_API_PORT, L2C_DATA_DIR, ...).
    data_dir: Path = Path(".l2c")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    postgres_port: int = 5433
    temporal_port: int = 7233
    temporal_ui_port: int = 8233

    # l2c itself.
    task_queue: str = "l2c"
    public_url: str = Field(default="", description="Base URL of the API, for e-mailed links")
    temporal_ui_url: str = ""
    secret_key: str = DEV_SECRET
    # Keys the audit chain (domain/audit.py); unset, it is derived from the secret key. Set it
    # on its own to rotate L2C_SECRET_KEY without re-keying the audit history.
    audit_key: str | None = None
    token_minutes: int = 60
    portal_token_days: int = 60
    dev_password: str = Field(default="l2c-dev", alias="L2C_DEV_PASSWORD")
    day_seconds: float = Field(default=86400, gt=0, alias="L2C_DAY_SECONDS")
    # A deal whose effects cannot be written this long shows itself blocked (DealPolicy).
    unwritable_after_seconds: float = Field(default=120, gt=0)
    mail_from: str = "l2c <no-reply@l2c.local>"
    # Set by `l2c dev` for its API: the SMTP sink's Maildir, shown at /ui/mail (dev only).
    maildir: Path | None = None
    # How long a stopping worker lets its running activities finish (SIGINT, SIGTERM).
    worker_grace_seconds: float = Field(default=30, ge=0)
    # How the web UI shows amounts and times to a user who has not chosen (users.locale,
    # users.time_zone), and the language of customers' e-mails when a lead names none.
    ui_locale: str = "en_GB"
    ui_time_zone: str = "UTC"
    default_language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    # Who sells (L2C_SELLER_*): on every invoice, and the country tax is determined from
    # (domain/tax.py). The defaults are a demo company's; set them all in production.
    seller_name: str = "l2c Demo GmbH"
    seller_address: str = "Musterstrasse 1, 10115 Berlin, Germany"
    seller_country: str = "DE"
    seller_vat_id: str = "DE136695976"
    seller_iban: str = "DE89370400440532013000"
    seller_bic: str | None = None  # unset: the IBAN's bank's, where schwifty knows it

    def check_secret(self) -> None:
        """Refuse to run with the built-in or a short secret. `l2c dev` itself hands `l2c api`
        and `l2c worker` a random secret of its own (cli._child_env), so no switch (and no
        environment variable) lets a server accept the public one."""
        if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
            raise ValueError(
                "L2C_SECRET_KEY must be set to a random secret of at least 32 "
                "characters (the built-in one is for `l2c dev` only)"
            )

    # Workflow payloads sealed by AES-256-GCM (adapters/payload_codec.py): "id:key,..." with
    # the key that seals first; unset, payloads are stored as they are (`l2c dev` makes a
    # key of its own in its data folder).
    payload_keys: str | None = Field(default=None, repr=False)
    # The Temporal UI's codec endpoint may decode for requests from this machine without a
    # login (`l2c dev` only: its UI has no way to sign in).
    codec_trusts_loopback: bool = False

    # Outbound webhooks (docs/webhooks.md): plain http only to this machine (dev and tests);
    # retried with exponential backoff, by default 20 attempts over about three days.
    webhook_allow_loopback_http: bool = False
    # Receivers on the private network (10/8, 172.16/12, 192.168/16, fc00::/7, this machine)
    # are refused unless allowed here; link-local (cloud metadata) never.
    webhook_allow_private_targets: bool = False
    webhook_retry_initial_seconds: float = Field(default=60, gt=0)
    webhook_retry_max_interval_seconds: float = Field(default=6 * 3600, gt=0)
    webhook_retry_max_attempts: int = Field(default=20, ge=1)
    webhook_timeout_seconds: float = Field(default=10, gt=0)
    # When the win-probability model is retrained (issue 19): a cron expression in UTC, the
    # spec of the Temporal Schedule `l2c-win-model-training-<task queue>`. Default: Mondays
    # at 03:00.
    win_model_schedule_cron: str = Field(default="0 3 * * 1", min_length=9, max_length=100)
    # The public web-to-lead form (POST /public/leads): per client address, per API process.
    public_leads_per_minute: float = Field(default=5, gt=0)
    public_leads_burst: int = Field(default=5, ge=1)
    # Observability (docs/operations.md, "Monitoring", "Tracing and logs"). The worker serves
    # its metrics on one port and the Temporal SDK's on another (0: not served), on
    # metrics_host (all interfaces by default, so a Prometheus in another container scrapes
    # them). Tracing exports by OTLP to OTEL_EXPORTER_OTLP_ENDPOINT (standard OTel variables).
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    temporal_metrics_port: int = Field(default=9465, ge=0, le=65535)
    metrics_host: str = "0.0.0.0"
    # When set, the API's GET /metrics wants `Authorization: Bearer <metrics_token>` (the
    # API's port is often the public one); Prometheus sends it (deploy/prometheus).
    metrics_token: str | None = Field(default=None, min_length=16)
    otel_enabled: bool = False
    otlp_endpoint: str | None = Field(default=None, alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    log_format: Literal["text", "json"] = "text"

    # Fault injection (adapters/chaos.py), for the reliability tests: off unless a ledger is set.
    chaos_ledger: Path | None = None
    chaos_kill_within: int = 0  # kill the worker once per deal, within its first N activities
    chaos_refuse: str | None = None  # refuse this activity once per workflow

    @property
    def audit_secret(self) -> bytes:
        """The audit chain's HMAC key: one the database never sees."""
        if self.audit_key:
            return self.audit_key.encode()
        return hmac.new(self.secret_key.encode(), b"l2c-audit-chain", hashlib.sha256).digest()

    @property
    def webhook_sealing_key(self) -> bytes:
        """The AES key that seals webhook signing secrets at rest (derived, never stored)."""
        return hmac.new(self.secret_key.encode(), b"l2c-webhook-secrets", hashlib.sha256).digest()

    @property
    def seller(self) -> SellerProfile:
        """The seller's profile, checked (an EU country, its VAT id's format and check digits,
        the IBAN's and BIC's): a mistake stops the process that reads it."""
        return SellerProfile(
            name=self.seller_name,
            address=self.seller_address,
            country=self.seller_country,
            vat_id=self.seller_vat_id,
            iban=self.seller_iban,
            bic=self.seller_bic,
        )

    @property
    def day(self) -> timedelta:
        return timedelta(seconds=self.day_seconds)

    # Sizing; 0 means "from the machine" (docs/operations.md, "Sizing").
    worker_threads: int = Field(default=0, ge=0)
    api_threads: int = Field(default=0, ge=0)

    @property
    def activity_threads(self) -> int:
        """Activities (local ones included) a worker runs at once. Each is one short Postgres
        transaction or one SMTP exchange: mostly waiting, so 8 per core, between 8 and 32;
        the worker's connection pool has as many connections."""
        return self.worker_threads or max(8, min(32, 8 * _cores()))

    @property
    def request_threads(self) -> int:
        """Requests the API handles at once (its routes block on Temporal or Postgres in a
        thread): 20 per core, between 20 and 80; its pool keeps up to 20 connections open."""
        return self.api_threads or max(20, min(80, 20 * _cores()))

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def temporal_ui(self) -> str:
        return self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@lru_cache
def get_settings() -> Settings:
    return Settings()
