"""Outbound webhooks: which audit actions are told to subscribers, as which event types,
with what payload, and which endpoint URLs may receive them. Pure: no IO, no clock."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from .errors import InvalidInput


class EventType(StrEnum):
    DEAL_STAGE_CHANGED = "deal.stage_changed"
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_PAID = "invoice.paid"
    INVOICE_CREDITED = "invoice.credited"
    PAYMENT_RECORDED = "payment.recorded"


# audit action -> the event it is told as, and the fields of its data a subscriber gets
# (no names, addresses or free text: a receiver asks the API for more if it may).
_BY_ACTION: dict[str, tuple[EventType, tuple[str, ...]]] = {
    "stage.changed": (EventType.DEAL_STAGE_CHANGED, ("stage",)),
    "invoice.issued": (EventType.INVOICE_ISSUED, ("number", "total", "currency", "due_date")),
    "credit_note.issued": (EventType.INVOICE_CREDITED, ("number", "invoice", "amount")),
    "payment.recorded": (
        EventType.PAYMENT_RECORDED,
        ("reference", "invoice", "amount", "currency", "received_at"),
    ),
}
# Actions after which an invoice may have become paid (its status then says).
SETTLING_ACTIONS = frozenset({"payment.recorded", "invoice.credit_applied"})


class Event(BaseModel):
    """One event as subscribers receive it (the body of the POST)."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: EventType
    created_at: datetime
    deal_id: str
    data: dict[str, Any]


def event_id(deal_id: str, audit_key: str, event_type: EventType) -> str:
    """The same for every endpoint and every retried write of one audit event."""
    digest = hashlib.sha256(f"{deal_id}\x00{audit_key}\x00{event_type}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


def events_for(
    deal_id: str,
    audit_key: str,
    at: datetime,
    action: str,
    data: dict[str, Any],
    paid_invoice: dict[str, Any] | None = None,
) -> list[Event]:
    """The events an audit event is told as; `paid_invoice` ({number, total, currency}) when
    a settling action left its invoice paid."""
    found: list[tuple[EventType, dict[str, Any]]] = []
    if action in _BY_ACTION:
        kind, fields = _BY_ACTION[action]
        found.append((kind, {name: data.get(name) for name in fields}))
    if action in SETTLING_ACTIONS and paid_invoice is not None:
        found.append((EventType.INVOICE_PAID, dict(paid_invoice)))
    return [
        Event(
            id=event_id(deal_id, audit_key, kind), type=kind, created_at=at, deal_id=deal_id, data=d
        )
        for kind, d in found
    ]


def is_told(action: str) -> bool:
    """Whether an audit action can become an event at all (most cannot: no query for them)."""
    return action in _BY_ACTION or action in SETTLING_ACTIONS


_HOST = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*"
)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint_url(url: str, allow_loopback_http: bool) -> str:
    """An https URL with a host; plain http only to this machine, where the deployment
    allows it (development and tests). Refused with the field named."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # a malformed IPv6 host, say
        raise InvalidInput("not a URL", field=("url",)) from None
    if not host or parts.username or parts.password:
        raise InvalidInput("the URL needs a host and no credentials", field=("url",))
    if not (_HOST.fullmatch(host) or _is_ip(host)) or not url.isprintable() or " " in url:
        raise InvalidInput("not a valid URL", field=("url",))
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and allow_loopback_http and _is_loopback(host):
        return url
    raise InvalidInput("webhook URLs must use https", field=("url",))


def target_refused(address: str, allow_loopback: bool, allow_private: bool) -> str | None:
    """Why a receiver at this IP address may not be called, or None. An admin's URL must
    not make l2c reach what only l2c can: its own machine, the private network, cloud
    metadata (169.254.169.254). A deployment whose receivers sit on its private network
    allows them (`webhook_allow_private_targets`); dev and tests allow this machine."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback or allow_private else "this machine"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "not a unicast address"
    if ip.is_private or not ip.is_global:
        return None if allow_private else "a private address"
    return None


class RetrySchedule(BaseModel):
    """How a delivery is retried: exponential backoff, capped, for a number of attempts."""

    model_config = ConfigDict(frozen=True)

    initial_seconds: float = Field(gt=0)
    max_interval_seconds: float = Field(gt=0)
    max_attempts: int = Field(ge=1)
    timeout_seconds: float = Field(gt=0)


class DeliveryJob(BaseModel):
    """What one delivery workflow is about: a delivery and its generation (a redelivery
    is the next generation, with a workflow of its own)."""

    model_config = ConfigDict(frozen=True)

    delivery_id: str
    generation: int = Field(ge=0)


class Attempt(BaseModel):
    """One POST to an endpoint, as the delivery log shows it."""

    model_config = ConfigDict(frozen=True)

    generation: int
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver says it will never want these again."""
        return self.status_code == 410


def workflow_id(job: DeliveryJob) -> str:
    """`webhook-<delivery id>`, and a suffix for each redelivery."""
    base = f"webhook-{job.delivery_id}"
    return base if job.generation == 0 else f"{base}-redelivery-{job.generation}"
