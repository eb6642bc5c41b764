"""The policy form: every setting one field, read back over the current policy, validated as
PUT /policy validates it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.policy_form import policy_fields, policy_from_form
from domain.errors import InvalidInput
from domain.policy import CompanyPolicy
from domain.users import Role

POLICY = CompanyPolicy()


def form_of(policy: CompanyPolicy) -> dict[str, str]:
    return {f.name: f.value for f in policy_fields(policy)}


def test_the_form_of_a_policy_reads_back_as_the_same_policy() -> None:
    assert policy_from_form(form_of(POLICY), POLICY) == POLICY


def test_every_setting_has_a_field_named_by_its_path() -> None:
    names = set(form_of(POLICY))
    assert {"renewal_notice_days", "collection.dunning_days", "approval.bands.2.roles"} <= names
    assert "approval.bands.0.below_value" in names


def test_a_changed_setting_changes_only_that_setting() -> None:
    form = form_of(POLICY) | {"renewal_uplift_pct": "4.5", "collection.dunning_days": "2, 9"}
    changed = policy_from_form(form, POLICY)
    assert changed.renewal_uplift_pct == Decimal("4.5")
    assert changed.collection.dunning_days == [2.0, 9.0]
    assert changed.model_copy(update={"renewal_uplift_pct": Decimal(3)}).approval == POLICY.approval


def test_parallel_approval_roles_are_joined_with_a_plus() -> None:
    form = form_of(POLICY) | {"approval.bands.2.roles": "sales_manager, finance+admin"}
    band = policy_from_form(form, POLICY).approval.bands[2]
    assert band.roles == [Role.SALES_MANAGER, [Role.FINANCE, Role.ADMIN]]
    assert form_of(policy_from_form(form, POLICY))["approval.bands.2.roles"] == (
        "sales_manager, finance+admin"
    )


def test_an_empty_limit_is_no_limit_and_a_setting_left_out_keeps_its_value() -> None:
    form = form_of(POLICY) | {"qualification.auto_qualify_at": ""}
    del form["delivery_due_days"]
    changed = policy_from_form(form, POLICY)
    assert changed.qualification.auto_qualify_at is None
    assert changed.delivery_due_days == POLICY.delivery_due_days


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("renewal_notice_days", "0", ("policy", "renewal_notice_days")),
        ("collection.dunning_days", "3, soon", ("policy", "collection", "dunning_days", 1)),
        ("approval.bands.1.roles", "sales_manager, boss", ("policy", "approval", "bands", 1)),
    ],
)
def test_a_wrong_setting_is_refused_naming_it(
    name: str, value: str, field: tuple[str | int, ...]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        policy_from_form(form_of(POLICY) | {name: value}, POLICY)
    assert refused.value.field is not None
    assert refused.value.field[: len(field)] == field
