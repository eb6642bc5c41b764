"""Webhook endpoints and their delivery log in Postgres: what admins register and read, and
what a delivery's activity reads and records. Every write is keyed, so a retry is a no-op."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert

from adapters.storage.tables import webhook_attempts, webhook_deliveries, webhook_endpoints
from domain.errors import Conflict, NotFound
from domain.webhooks import Attempt, DeliveryJob, EventType

from .secrets import SecretBox, new_secret


class Endpoint(BaseModel):
    id: str
    url: str
    events: list[EventType]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime


class CreatedEndpoint(Endpoint):
    secret: str  # shown once, here and by rotate-secret


class Delivery(BaseModel):
    id: str
    event_id: str
    type: EventType
    deal_id: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None


class DeliveryLog(Delivery):
    attempt_log: list[Attempt]


class Outgoing(BaseModel):
    """A delivery as the sender needs it, with the endpoint's secret opened."""

    delivery_id: str
    event_id: str
    url: str
    secret: str
    payload: dict[str, Any]
    status: str
    generation: int
    enabled: bool


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(
        id=row.endpoint_id,
        url=row.url,
        events=row.events,
        description=row.description,
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        created_at=row.created_at,
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.delivery_id,
        event_id=row.event_id,
        type=row.event_type,
        deal_id=row.deal_id,
        status=row.status,
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        delivered_at=row.delivered_at,
        failed_at=row.failed_at,
    )


class WebhookStore:
    """Endpoints (secrets sealed by `box`) and the delivery log."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self.engine, self.box = engine, box

    # --- endpoints (admins) ---

    def create(
        self, url: str, events: list[EventType], description: str | None, by: str, at: datetime
    ) -> CreatedEndpoint:
        secret = new_secret()
        endpoint_id = f"we_{uuid.uuid4().hex[:24]}"
        with self.engine.begin() as conn:
            conn.execute(
                webhook_endpoints.insert().values(
                    endpoint_id=endpoint_id,
                    url=url,
                    events=sorted({e.value for e in events}),
                    description=description,
                    secret_sealed=self.box.seal(secret),
                    created_by=by,
                    created_at=at,
                    updated_at=at,
                )
            )
        return CreatedEndpoint(**self.get(endpoint_id).model_dump(), secret=secret)

    def get(self, endpoint_id: str) -> Endpoint:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(webhook_endpoints).where(webhook_endpoints.c.endpoint_id == endpoint_id)
            ).first()
        if row is None:
            raise NotFound("webhook endpoint not found")
        return _endpoint(row)

    def all(self) -> list[Endpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(webhook_endpoints).order_by(webhook_endpoints.c.created_at))
            return [_endpoint(row) for row in rows]

    def disable(self, endpoint_id: str, reason: str, at: datetime) -> Endpoint:
        """No new deliveries; those under way stop at their next attempt."""
        with self.engine.begin() as conn:
            conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.endpoint_id == endpoint_id)
                .where(webhook_endpoints.c.enabled.is_(True))
                .values(enabled=False, disabled_reason=reason, updated_at=at)
            )
        return self.get(endpoint_id)

    def rotate_secret(self, endpoint_id: str, at: datetime) -> CreatedEndpoint:
        self.get(endpoint_id)
        secret = new_secret()
        with self.engine.begin() as conn:
            conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.endpoint_id == endpoint_id)
                .values(secret_sealed=self.box.seal(secret), updated_at=at)
            )
        return CreatedEndpoint(**self.get(endpoint_id).model_dump(), secret=secret)

    # --- the delivery log ---

    def deliveries(self, endpoint_id: str, limit: int) -> list[DeliveryLog]:
        """The newest deliveries first, each with its attempts."""
        self.get(endpoint_id)
        with self.engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(webhook_deliveries)
                    .where(webhook_deliveries.c.endpoint_id == endpoint_id)
                    .order_by(webhook_deliveries.c.created_at.desc())
                    .limit(limit)
                )
            )
            attempts = conn.execute(
                select(webhook_attempts)
                .where(webhook_attempts.c.delivery_id.in_([r.delivery_id for r in rows]))
                .order_by(webhook_attempts.c.generation, webhook_attempts.c.attempt)
            ).mappings()
            by_delivery: dict[str, list[Attempt]] = {}
            for a in attempts:
                by_delivery.setdefault(a["delivery_id"], []).append(Attempt.model_validate(a))
        return [
            DeliveryLog(
                **_delivery(row).model_dump(), attempt_log=by_delivery.get(row.delivery_id, [])
            )
            for row in rows
        ]

    def redeliver(self, endpoint_id: str, delivery_id: str) -> Delivery:
        """Send the event again, as a new generation (its own workflow), whatever became of
        the last one; refused while the endpoint is disabled or the delivery is under way."""
        endpoint = self.get(endpoint_id)
        if not endpoint.enabled:
            raise Conflict("the endpoint is disabled")
        with self.engine.begin() as conn:
            row = conn.execute(
                select(webhook_deliveries)
                .where(webhook_deliveries.c.delivery_id == delivery_id)
                .where(webhook_deliveries.c.endpoint_id == endpoint_id)
                .with_for_update()
            ).first()
            if row is None:
                raise NotFound("delivery not found")
            if row.status == "pending":
                raise Conflict("the delivery is still under way")
            row = conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.delivery_id == delivery_id)
                .values(status="pending", generation=row.generation + 1, failed_at=None)
                .returning(*webhook_deliveries.c)
            ).one()
        return _delivery(row)

    # --- the sending side (activities, relay) ---

    def outgoing(self, delivery_id: str) -> Outgoing:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(webhook_deliveries, webhook_endpoints)
                .join(webhook_endpoints)
                .where(webhook_deliveries.c.delivery_id == delivery_id)
            ).one()
        return Outgoing(
            delivery_id=row.delivery_id,
            event_id=row.event_id,
            url=row.url,
            secret=self.box.open(row.secret_sealed),
            payload=row.payload,
            status=row.status,
            generation=row.generation,
            enabled=row.enabled,
        )

    def record_attempt(self, job: DeliveryJob, attempt: Attempt) -> None:
        """Log one attempt once (keyed by generation and attempt number)."""
        with self.engine.begin() as conn:
            added = conn.execute(
                insert(webhook_attempts)
                .values(delivery_id=job.delivery_id, **attempt.model_dump())
                .on_conflict_do_nothing()
                .returning(webhook_attempts.c.attempt)
            ).first()
            if added is None:
                return
            values: dict[str, Any] = {
                "attempts": webhook_deliveries.c.attempts + 1,
                "last_status_code": attempt.status_code,
                "last_error": attempt.error,
                "last_attempt_at": attempt.at,
            }
            if attempt.delivered:
                values |= {"status": "delivered", "delivered_at": attempt.at}
            conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.delivery_id == job.delivery_id)
                .where(webhook_deliveries.c.generation == job.generation)
                .values(**values)
            )

    def give_up(self, job: DeliveryJob, reason: str, at: datetime) -> None:
        """The generation's last attempt failed: the log shows it failed."""
        with self.engine.begin() as conn:
            conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.delivery_id == job.delivery_id)
                .where(webhook_deliveries.c.generation == job.generation)
                .where(webhook_deliveries.c.status == "pending")
                .values(
                    status="failed",
                    failed_at=at,
                    last_error=func.coalesce(webhook_deliveries.c.last_error, reason),
                )
            )

    def disable_for(self, delivery_id: str, reason: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            endpoint_id = conn.execute(
                select(webhook_deliveries.c.endpoint_id).where(
                    webhook_deliveries.c.delivery_id == delivery_id
                )
            ).scalar_one()
        self.disable(endpoint_id, reason, at)
