"""RevenueWorkflow: recognizes a subscription's revenue month by month after activation.

A child of its deal that outlives it (a 5-year subscription is 60 timers here, not in the
deal's history); cancelling the deal cancels it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.finance import FinanceActivities, RecognizeRevenue
    from domain.revenue import DAYS_PER_MONTH, Recognition

    from .activity_options import FINANCE


class RevenueSchedule(BaseModel):
    deal_id: str
    currency: str
    activated_at: datetime
    day: timedelta
    items: list[Recognition]


@workflow.defn
class RevenueWorkflow:
    @workflow.run
    async def run(self, schedule: RevenueSchedule) -> int:
        """Recognize each month at its end; the number of months recognized."""
        for item in sorted(schedule.items, key=lambda r: r.month or 0):
            due = schedule.activated_at + schedule.day * DAYS_PER_MONTH * ((item.month or 0) + 1)
            if due > workflow.now():
                await workflow.sleep(due - workflow.now())
            await workflow.execute_activity_method(
                FinanceActivities.recognize_revenue,
                RecognizeRevenue(
                    deal_id=schedule.deal_id,
                    key=item.key,
                    memo=f"Revenue {item.sku}, month {(item.month or 0) + 1}",
                    amount=item.amount,
                    currency=schedule.currency,
                    at=workflow.now(),
                ),
                **FINANCE,
            )
        return len(schedule.items)
