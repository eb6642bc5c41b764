"""Delivering one webhook: one signed POST per attempt, each logged; Temporal retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.webhooks import DeliveryJob

if TYPE_CHECKING:
    from adapters.webhooks.sender import WebhookSender
    from adapters.webhooks.store import WebhookStore

# Errors that end a delivery at once (the others are retried by the workflow's policy).
ENDPOINT_GONE = "EndpointGone"
ENDPOINT_DISABLED = "EndpointDisabled"


class GiveUp(BaseModel):
    job: DeliveryJob
    reason: str


class WebhookActivities:
    """Bound to the store and the sender by worker.py."""

    def __init__(self, store: WebhookStore, sender: WebhookSender) -> None:
        self.store, self.sender = store, sender

    @activity.defn
    def deliver_webhook(self, job: DeliveryJob) -> None:
        """POST once; a non-2xx answer or no answer fails this attempt (retried); 410 Gone
        disables the endpoint and ends the delivery."""
        out = self.store.outgoing(job.delivery_id)
        if out.generation != job.generation or out.status != "pending":
            return  # a later generation, or this one already done: nothing to send
        if not out.enabled:
            raise ApplicationError(
                "the endpoint is disabled", type=ENDPOINT_DISABLED, non_retryable=True
            )
        attempt = self.sender.post(out, job.generation, activity.info().attempt)
        self.store.record_attempt(job, attempt)
        if attempt.delivered:
            return
        if attempt.gone:
            self.store.disable_for(job.delivery_id, "the receiver answered 410 Gone", attempt.at)
            raise ApplicationError(attempt.error or "410", type=ENDPOINT_GONE, non_retryable=True)
        raise ApplicationError(attempt.error or "not delivered", type="DeliveryFailed")

    @activity.defn
    def give_up_webhook(self, give_up: GiveUp) -> None:
        """After the last attempt: the delivery log shows it failed."""
        self.store.give_up(give_up.job, give_up.reason, datetime.now(UTC))
