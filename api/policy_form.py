"""The company policy as an HTML form and back: one text field per setting, named by its
path in `GET /policy` (`collection.write_off_after_days`, `approval.bands.1.roles`).

A list of plain values is one field, comma-separated; a parallel group of approval roles is
written `finance+admin`. An empty field is "none" where the setting may be none. A list of
groups of settings (the approval bands) has a "remove" box per group and blank fields for a
new one (`approval.bands.new.roles`), which goes where the list's order allows it. The form
is read over the current policy, so a setting the form does not show keeps its value; the
result is validated as `PUT /policy` validates it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from domain.errors import InvalidInput
from domain.policy import CompanyPolicy

Scalar = str | int | float | Decimal | bool | None


@dataclass(frozen=True)
class PolicyField:
    """One input of the form: its name (the setting's path), label and current text."""

    name: str
    label: str
    value: str
    is_list: bool = False
    removes: bool = False  # a checkbox: remove this group (a band) from its list


def policy_fields(policy: CompanyPolicy) -> list[PolicyField]:
    """Every setting of `policy`, in the order `GET /policy` shows them; after each group of
    a list of groups its "remove" box, and after the list the fields of a new group."""
    data = policy.model_dump(mode="json")
    after: dict[str, list[PolicyField]] = {}  # fields that follow a group's last setting
    for path, items in _group_lists(data, ()):
        keys = list(items[0])
        for index in range(len(items)):
            group = f"{path}.{index}"
            after[f"{group}.{keys[-1]}"] = [
                PolicyField(f"{group}.remove", f"Remove {_label(group).lower()}", "", removes=True)
            ]
        after[f"{path}.{len(items) - 1}.{keys[-1]}"] += [
            PolicyField(f"{path}.new.{key}", _new_label(path, key), "", isinstance(sample, list))
            for key, sample in items[0].items()
        ]
    fields: list[PolicyField] = []
    for name, value in _leaves(data, ()):
        fields.append(PolicyField(name, _label(name), _text(value), isinstance(value, list)))
        fields += after.get(name, [])
    return fields


def policy_from_form(form: Mapping[str, str], current: CompanyPolicy) -> CompanyPolicy:
    """The policy the form describes, or a 422 naming the first setting it gets wrong."""
    data = current.model_dump(mode="json")
    for name, value in _leaves(data, ()):
        if name in form:
            _put(data, name.split("."), _parse(form[name], is_list=isinstance(value, list)))
    for path, items in _group_lists(data, ()):
        kept = [item for i, item in enumerate(items) if form.get(f"{path}.{i}.remove") != "on"]
        new = {
            key: _parse(form.get(f"{path}.new.{key}", ""), is_list=isinstance(sample, list))
            for key, sample in items[0].items()
        }
        filled = any(value not in (None, []) for value in new.values())
        _put(data, path.split("."), _placed(data, path, kept, new) if filled else kept)
    try:
        return CompanyPolicy.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{path}: {first['msg']}", field=("policy", *first["loc"])) from None


def _placed(data: dict[str, Any], path: str, items: list[Any], new: Any) -> list[Any]:
    """`items` with `new` at the first place the policy's rules accept (bands go from the
    narrowest to the widest), else at the end (and the refusal names what is wrong)."""
    for at in range(len(items) + 1):
        candidate = [*items[:at], new, *items[at:]]
        trial = copy.deepcopy(data)
        _put(trial, path.split("."), candidate)
        try:
            CompanyPolicy.model_validate(trial)
        except ValidationError:
            continue
        return candidate
    return [*items, new]


def _group_lists(data: Any, path: tuple[str, ...]) -> list[tuple[str, list[Any]]]:
    """(dotted path, list) of each list of groups of settings (the approval bands)."""
    if isinstance(data, dict):
        return [found for key, value in data.items() for found in _group_lists(value, (*path, key))]
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        return [(".".join(path), data)]
    return []


def _new_label(path: str, key: str) -> str:
    """`approval.bands`, `roles` -> 'Approval › new band › roles'."""
    *outer, last = path.split(".")
    parts = [p.replace("_", " ") for p in outer] + [
        f"new {last.rstrip('s')}",
        key.replace("_", " "),
    ]
    return " › ".join(parts).capitalize()


def _leaves(data: Any, path: tuple[str, ...]) -> list[tuple[str, Any]]:
    """(dotted path, value) of each setting: a list of mappings (the bands) is opened up,
    a list of plain values (or of role groups) is one setting."""
    if isinstance(data, dict):
        return [leaf for key, value in data.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        return [
            leaf for index, item in enumerate(data) for leaf in _leaves(item, (*path, str(index)))
        ]
    return [(".".join(path), data)]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join("+".join(item) if isinstance(item, list) else str(item) for item in value)
    return str(value)


def _parse(text: str, is_list: bool) -> Any:
    text = text.strip()
    if not is_list:
        return text or None
    items = [item.strip() for item in text.split(",") if item.strip()]
    return [[part.strip() for part in item.split("+")] if "+" in item else item for item in items]


def _put(data: Any, path: list[str], value: Any) -> None:
    key = path[0]
    slot: Any = int(key) if isinstance(data, list) else key
    if len(path) == 1:
        data[slot] = value
    else:
        _put(data[slot], path[1:], value)


def _label(name: str) -> str:
    """`approval.bands.1.below_value` -> 'Approval › band 2 › below value'."""
    parts: list[str] = []
    for part in name.split("."):
        if part.isdigit():
            parts[-1] = f"{parts[-1].rstrip('s')} {int(part) + 1}"
        else:
            parts.append(part.replace("_", " "))
    return " › ".join(parts).capitalize()
