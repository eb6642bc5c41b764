"""The company policy as versioned data: what a valid version is, what a deal keeps of it,
and what a change records."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from domain.approval import ApprovalBand, ApprovalPolicy
from domain.policy import CompanyPolicy, DealPolicy, missing_fields, policy_changes
from domain.users import Role

MIGRATION = (
    Path(__file__).parents[2] / "adapters/storage/migrations/versions/0014_policy_versions.py"
)


def body(**changes: Any) -> dict[str, Any]:
    """The default policy as GET /policy shows it, with top-level fields changed."""
    return {**CompanyPolicy().model_dump(mode="json"), **changes}


def band(discount: int | None, below: int | None, *roles: Role) -> dict[str, Any]:
    return {"max_discount_pct": discount, "below_value": below, "roles": list(roles)}


def refused_at(data: dict[str, Any]) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as refused:
        CompanyPolicy.model_validate(data)
    return [error["loc"] for error in refused.value.errors()]


def test_the_default_policy_is_valid_data():
    assert CompanyPolicy.model_validate(body()) == CompanyPolicy()


def test_approval_bands_go_from_the_narrowest_to_the_widest():
    bands = [
        band(30, 250_000, Role.SALES_MANAGER, Role.FINANCE),
        band(10, 50_000, Role.SALES_MANAGER),
        band(None, None, Role.ADMIN),
    ]
    assert refused_at(body(approval={"bands": bands})) == [("approval", "bands")]


def test_a_band_no_wider_than_the_one_before_is_refused():
    bands = [band(10, 50_000, Role.SALES_MANAGER), band(10, 50_000, Role.FINANCE)]
    bands.append(band(None, None, Role.ADMIN))
    assert refused_at(body(approval={"bands": bands})) == [("approval", "bands")]


def test_a_band_may_widen_one_limit_only():
    bands = [band(10, 50_000, Role.SALES_MANAGER), band(20, 50_000, Role.FINANCE)]
    ApprovalPolicy.model_validate({"bands": [*bands, band(None, None, Role.ADMIN)]})


def test_a_band_lower_in_one_limit_is_refused_even_if_higher_in_the_other():
    with pytest.raises(ValidationError, match="band 1 must reach beyond band 0"):
        ApprovalPolicy(
            bands=[
                ApprovalBand(max_discount_pct=Decimal(5), roles=[Role.SALES_MANAGER]),
                ApprovalBand(
                    max_discount_pct=Decimal(20), below_value=Decimal(1000), roles=[Role.FINANCE]
                ),
                ApprovalBand(roles=[Role.ADMIN]),
            ]
        )


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"max_discount_pct": "101"}, "max_discount_pct"),
        ({"max_discount_pct": "-1"}, "max_discount_pct"),
        ({"below_value": "0"}, "below_value"),
    ],
)
def test_band_limits_are_a_percentage_and_a_positive_value(limits, field):
    first = {**band(10, 50_000, Role.SALES_MANAGER), **limits}
    bands = [first, band(None, None, Role.ADMIN)]
    assert refused_at(body(approval={"bands": bands})) == [("approval", "bands", 0, field)]


def test_the_dunning_ladder_climbs_to_the_write_off():
    ladder = {"dunning_days": [3, 20, 10], "write_off_after_days": 45}
    assert refused_at(body(collection=ladder)) == [("collection",)]


def test_qualification_reminds_before_it_escalates_before_it_closes():
    timing = {**body()["qualification"], "remind_after_days": 5, "escalate_after_days": 4}
    assert refused_at(body(qualification=timing)) == [("qualification",)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("renewal_notice_days", 0),
        ("renewal_notice_days", 366),
        ("renewal_uplift_pct", "-1"),
        ("renewal_uplift_pct", "100.5"),
        ("credit_limit", "-1"),
        ("delivery_due_days", 0),
    ],
)
def test_numbers_out_of_range_are_refused_naming_the_field(field, value):
    assert refused_at(body(**{field: value})) == [(field,)]


def test_renewals_default_to_30_days_notice_and_a_3_percent_uplift():
    policy = CompanyPolicy()
    assert (policy.renewal_notice_days, policy.renewal_uplift_pct) == (30, Decimal(3))


@pytest.mark.parametrize("field", ["day", "unwritable_after", "version", "approvals"])
def test_the_stored_policy_has_no_day_no_version_and_nothing_unknown(field):
    assert refused_at(body(**{field: 1})) == [(field,)]


def test_a_deal_started_before_policy_versions_still_loads_its_policy():
    started_before = {
        "day": "PT1H",
        "delivery_due_days": 14,
        "quote_lapses_before_lost": 3,
        "credit_limit": "100000",
        "unwritable_after": "PT2M",
    }
    policy = DealPolicy.model_validate(started_before)
    assert policy.version is None
    assert policy.renewal_notice_days == 30


def test_a_new_deal_keeps_the_version_and_its_own_day():
    company = CompanyPolicy(credit_limit=Decimal(5000))
    policy = company.for_deal(7, timedelta(seconds=2), timedelta(seconds=30))
    assert (policy.version, policy.day, policy.credit_limit) == (
        7,
        timedelta(seconds=2),
        Decimal(5000),
    )
    assert DealPolicy.model_validate_json(policy.model_dump_json()) == policy


def test_a_change_names_each_field_it_changed_with_both_values():
    before = CompanyPolicy()
    bands = body()["approval"]["bands"]
    bands[0]["max_discount_pct"] = "3"
    after = CompanyPolicy.model_validate(body(approval={"bands": bands}, renewal_notice_days=60))
    changes = {c.field: (c.before, c.after) for c in policy_changes(before, after)}
    assert changes == {
        "approval.bands.0.max_discount_pct": ("10", "3"),
        "renewal_notice_days": (30, 60),
    }


def test_an_unchanged_policy_has_no_changes():
    assert policy_changes(CompanyPolicy(), CompanyPolicy.model_validate(body())) == []


def test_a_body_that_leaves_a_field_out_names_it():
    data = body()
    del data["approval"]["bands"][1]["below_value"]
    del data["renewal_uplift_pct"]
    assert missing_fields(CompanyPolicy.model_validate(data)) == [
        ("approval", "bands", 1, "below_value"),
        ("renewal_uplift_pct",),
    ]


def test_a_body_as_get_shows_it_is_whole():
    assert missing_fields(CompanyPolicy.model_validate(body())) == []


def test_version_1_is_the_code_defaults_of_its_migration():
    spec = importlib.util.spec_from_file_location("policy_versions_0014", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    seeded = CompanyPolicy.model_validate(migration.VERSION_1)
    assert seeded == CompanyPolicy()
    assert missing_fields(seeded) == []
