"""Rows (or their JSON) as domain models: one mapper per model, shared by every view."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from domain.approval import ApprovalStep
from domain.contract import Contract, Signature
from domain.invoices import Invoice


def fields(row: Row[Any] | Mapping[str, Any]) -> Mapping[str, Any]:
    return row if isinstance(row, Mapping) else dict(row._mapping)


def from_json(text: str | None) -> Any:
    """JSON aggregated in Postgres, numbers kept exact (money never passes through float)."""
    return None if text is None else json.loads(text, parse_float=Decimal)


def invoice_from_row(row: Row[Any] | Mapping[str, Any]) -> Invoice:
    """An invoices row (any extra columns ignored) as the domain's Invoice."""
    return Invoice.model_validate(dict(fields(row)))


def step_from_row(row: Row[Any] | Mapping[str, Any]) -> ApprovalStep:
    r = fields(row)
    return ApprovalStep(
        index=r["idx"],
        role=r["role"],
        group=r["grp"],
        status=r["status"],
        requested_at=r["requested_at"],
        decided_at=r["decided_at"],
        decided_by=r["decided_by"],
        comment=r["comment"],
        escalated_to=r["escalated_to"],
        carried_over=r["carried_over"],
        subject=r.get("subject", "contract"),
        reason=r["reason"],
    )


def contract_from_row(row: Row[Any] | Mapping[str, Any]) -> Contract:
    r = fields(row)
    signature = None
    if r["signed_at"] is not None:
        signature = Signature(
            name=r["signed_name"],
            signed_at=r["signed_at"],
            ip=r["signed_ip"],
            sha256=r["signed_sha256"],
        )
    return Contract(
        version=r["version"],
        quote_version=r["quote_version"],
        body=r["body"],
        sha256=r["sha256"],
        drafted_at=r["drafted_at"],
        signature=signature,
    )
