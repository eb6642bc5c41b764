"""WebhookDeliveryWorkflow: one event to one endpoint, retried with exponential backoff by
Temporal until it is accepted or the schedule is spent (then the log says failed)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.webhooks import ENDPOINT_DISABLED, ENDPOINT_GONE, GiveUp, WebhookActivities
    from domain.webhooks import DeliveryJob, RetrySchedule

    from .activity_options import STORAGE


class WebhookDelivery(BaseModel):
    """The delivery and the retry schedule of the deployment that started it."""

    job: DeliveryJob
    retry: RetrySchedule


def _policy(retry: RetrySchedule) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=retry.initial_seconds),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=retry.max_interval_seconds),
        maximum_attempts=retry.max_attempts,
        non_retryable_error_types=[ENDPOINT_GONE, ENDPOINT_DISABLED],
    )


@workflow.defn
class WebhookDeliveryWorkflow:
    @workflow.run
    async def run(self, delivery: WebhookDelivery) -> str:
        """'delivered' or 'failed'."""
        try:
            await workflow.execute_activity_method(
                WebhookActivities.deliver_webhook,
                delivery.job,
                start_to_close_timeout=timedelta(seconds=delivery.retry.timeout_seconds + 5),
                retry_policy=_policy(delivery.retry),
            )
        except ActivityError as err:
            reason = str(err.cause or err)[:500]
            await workflow.execute_activity_method(
                WebhookActivities.give_up_webhook,
                GiveUp(job=delivery.job, reason=reason),
                **STORAGE,
            )
            return "failed"
        return "delivered"
