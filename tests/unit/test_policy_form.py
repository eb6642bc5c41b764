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


def test_a_band_is_removed_by_its_box_and_a_new_one_takes_its_place_in_order() -> None:
    fields = {f.name: f for f in policy_fields(POLICY)}
    assert fields["approval.bands.1.remove"].removes
    assert "approval.bands.new.roles" in fields and fields["approval.bands.new.roles"].is_list
    names = list(fields)
    assert names.index("approval.bands.0.remove") < names.index("approval.bands.1.max_discount_pct")
    assert names.index("approval.bands.2.remove") < names.index("approval.bands.new.roles")

    form = form_of(POLICY) | {
        "approval.bands.new.max_discount_pct": "20",
        "approval.bands.new.below_value": "100000",
        "approval.bands.new.roles": "sales_manager",
    }
    added = policy_from_form(form, POLICY).approval.bands
    assert [(b.max_discount_pct, b.below_value) for b in added] == [
        (Decimal(10), Decimal(50_000)),
        (Decimal(20), Decimal(100_000)),  # between the narrower and the wider band
        (Decimal(30), Decimal(250_000)),
        (None, None),
    ]
    assert added[1].roles == [Role.SALES_MANAGER]

    removed = policy_from_form(form_of(POLICY) | {"approval.bands.1.remove": "on"}, POLICY)
    assert [b.below_value for b in removed.approval.bands] == [Decimal(50_000), None]


def test_a_new_band_that_fits_nowhere_is_refused_naming_the_bands() -> None:
    form = form_of(POLICY) | {
        "approval.bands.new.max_discount_pct": "5",
        "approval.bands.new.below_value": "900000",  # narrower in discount, wider in value
        "approval.bands.new.roles": "finance",
    }
    with pytest.raises(InvalidInput, match="approval.bands"):
        policy_from_form(form, POLICY)
    with pytest.raises(InvalidInput, match="approval.bands"):  # at least one band stays
        every = {f"approval.bands.{i}.remove": "on" for i in range(3)}
        policy_from_form(form_of(POLICY) | every, POLICY)
