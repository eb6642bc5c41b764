"""The customer's credit as a deal reads it (a local activity, at the deal's now): finance's
approval step when the credit asks for one, and the standing a delivery checks.

Deals recorded before per-customer credit read only their exposure while drafting and never
checked a hold before a delivery; `workflow.patched` keeps their histories replaying."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.storage import CreditQuery, CreditStandingQuery, StorageActivities
    from domain.approval import ApprovalStep, with_credit_check, with_credit_standing
    from domain.credit import CreditStanding
    from domain.money import Money
    from domain.quotes import Quote

    from ..activity_options import READ

from .effects import DealEffects

CREDIT_STANDING = "credit-standing"  # the patch: read the standing, hold deliveries


def has_credit_standing() -> bool:
    """False while replaying a deal recorded before credit standing."""
    return workflow.patched(CREDIT_STANDING)


async def read_credit_standing(deal: DealEffects, currency: str) -> CreditStanding:
    """The standing of the deal's customer; without terms set by finance, the deal's policy
    limit applies in `currency` (the deal's)."""
    return await workflow.execute_local_activity_method(
        StorageActivities.read_credit_standing,
        CreditStandingQuery(
            deal_id=deal.deal.deal_id,
            default_limit=Money.of(deal.policy.credit_limit, currency),
            at=workflow.now(),
        ),
        **READ,
    )


async def credit_checked(
    deal: DealEffects, steps: list[ApprovalStep], quote: Quote
) -> list[ApprovalStep]:
    """`steps`, with finance's approval when the customer is on hold or this quote takes it
    over its limit (domain/credit.py)."""
    if has_credit_standing():
        standing = await read_credit_standing(deal, quote.currency)
        return with_credit_standing(steps, standing, Money.of(quote.total, quote.currency))
    exposure = await workflow.execute_local_activity_method(
        StorageActivities.read_credit_exposure,
        CreditQuery(deal_id=deal.deal.deal_id, currency=quote.currency),
        **READ,
    )
    return with_credit_check(steps, exposure, quote.total, deal.policy.credit_limit, quote.currency)
