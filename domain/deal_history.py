"""A made-up history of closed deals whose ending depends on known features plus noise.

For tests and bench/win_model.py: seeded, so the same arguments give the same deals. The true
effects are written down here, so a model that learns them can be told from one that does
not. Each deal is seen once, at a stage it reached, as a rep would have seen it then.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from decimal import Decimal

from .leads import Lead, LeadSource, score_lead
from .stages import DealStage
from .win_features import ClosedDeal

# Log-odds effects of the truth behind the generated endings.
SOURCE_EFFECT = {
    LeadSource.REFERRAL: 0.9,
    LeadSource.PARTNER: 0.5,
    LeadSource.TRADE_SHOW: 0.3,
    LeadSource.WEB: 0.0,
    LeadSource.OUTBOUND: -0.3,
    LeadSource.AD_CAMPAIGN: -0.5,
    LeadSource.IMPORT: -0.8,
    LeadSource.OTHER: -0.4,
}
COUNTRY_EFFECT = {"DE": 0.2, "FR": 0.0, "GB": 0.1, "US": -0.2, "NL": 0.1, "ES": -0.2, "IT": -0.3}
TYPICAL_AMOUNT = 20_000.0
SIZE_EFFECT = -0.4  # per unit of log(amount / typical): big deals are harder to win
BUDGET_EFFECT, AUTHORITY_EFFECT, NEED_EFFECT = 0.7, 0.6, 0.4
WITHIN_90_EFFECT, WITHIN_180_EFFECT = 0.4, 0.15
DISCOUNT_EFFECT = -0.05  # per discount percent: deals that need a big discount are shaky
APPROVAL_EFFECT = -0.2  # per approval step
QUALIFYING_DAY_EFFECT = -0.05  # per day the lead took to qualify
OWNER_SKILL_SPREAD = 0.7  # standard deviation of the owners' own effect
NOISE_SPREAD = 0.5  # what nobody records
INTERCEPT = -0.3

PATH = (
    DealStage.QUALIFYING,
    DealStage.QUOTING,
    DealStage.AWAITING_APPROVAL,
    DealStage.PROPOSED,
    DealStage.AWAITING_SIGNATURE,
)


def generate_closed_deals(
    n: int, *, start: datetime, seed: int = 16, days: int = 730, owners: int = 30
) -> list[ClosedDeal]:
    """`n` deals opened over `days` days from `start` (aware), each won or lost by the truth
    above, seen at a stage it reached before it closed."""
    rnd = random.Random(seed)
    skill = {f"rep{i}": rnd.gauss(0, OWNER_SKILL_SPREAD) for i in range(1, owners + 1)}
    return [_deal(rnd, index, start, days, skill) for index in range(n)]


def _deal(
    rnd: random.Random, index: int, start: datetime, days: int, skill: dict[str, float]
) -> ClosedDeal:
    owner = rnd.choice(sorted(skill))
    source = rnd.choice(list(LeadSource))
    country = rnd.choice([*COUNTRY_EFFECT, None])
    amount = Decimal(str(round(rnd.lognormvariate(math.log(TYPICAL_AMOUNT), 1.0), 2)))
    budget, authority, need = rnd.random() < 0.5, rnd.random() < 0.45, rnd.random() < 0.7
    timeline = rnd.choice([None, 30, 60, 90, 120, 180, 270, 365])
    discount = rnd.choice([0, 0, 0, 5, 5, 10, 10, 15, 20, 25, 30])
    approvals = int(amount >= 50_000) + int(discount > 10) + int(amount >= 200_000)
    qualifying_days = rnd.expovariate(1 / 4)
    logit = (
        INTERCEPT
        + SOURCE_EFFECT[source]
        + (COUNTRY_EFFECT[country] if country else -0.3)
        + SIZE_EFFECT * math.log(float(amount) / TYPICAL_AMOUNT)
        + BUDGET_EFFECT * budget
        + AUTHORITY_EFFECT * authority
        + NEED_EFFECT * need
        + (WITHIN_90_EFFECT if timeline is not None and timeline <= 90 else 0.0)
        + (WITHIN_180_EFFECT if timeline is not None and 90 < timeline <= 180 else 0.0)
        + DISCOUNT_EFFECT * discount
        + APPROVAL_EFFECT * approvals
        + QUALIFYING_DAY_EFFECT * qualifying_days
        + skill[owner]
        + rnd.gauss(0, NOISE_SPREAD)
    )
    won = rnd.random() < 1 / (1 + math.exp(-logit))
    path = [s for s in PATH if s is not DealStage.AWAITING_APPROVAL or approvals]
    # A lost deal ended at some stage of its path (early ones more often); a won deal went
    # through them all. We see it at one stage it reached, chosen at random.
    last = len(path) - 1 if won else min(int(rnd.expovariate(1 / 1.2)), len(path) - 1)
    seen = rnd.randint(0, last)
    durations = [qualifying_days] + [rnd.expovariate(1 / 6) for _ in path[1:]]
    at_stage = rnd.uniform(0, durations[seen])
    opened = start + timedelta(days=rnd.uniform(0, days))
    decided = opened + timedelta(days=sum(durations[:seen]) + at_stage)
    closed = opened + timedelta(days=sum(durations[: last + 1]) + rnd.uniform(0.5, 5))
    quoted = seen >= 1
    # Built unvalidated (the made-up contact is never read): only what score_lead reads.
    lead = Lead.model_construct(
        company=f"Company {index}",
        contact_name="Contact",
        email=f"contact@company{index}.example",
        source=source,
        estimated_value=amount,
        budget_confirmed=budget,
        decision_maker=authority,
        need="described" if need else None,
        timeline_days=timeline,
    )
    return ClosedDeal(
        deal_id=f"deal-{index}",
        owner=owner,
        source=source,
        country=country,
        amount=amount,
        score=score_lead(lead).score,
        budget_confirmed=budget,
        decision_maker=authority,
        need_described=need,
        timeline_days=timeline,
        discount_pct=Decimal(discount if quoted else 0),
        approvals_needed=approvals if quoted else 0,
        stage=path[seen],
        days_qualifying=min(qualifying_days, at_stage) if seen == 0 else qualifying_days,
        days_at_stage=at_stage,
        decided_at=decided,
        won=won,
        closed_at=closed,
    )
