"""Workflow ids, made in one place so the API, the workflows and ops agree."""

from __future__ import annotations


def deal_workflow_id(deal_id: str) -> str:
    return f"deal-{deal_id}"


def invoice_workflow_id(number: str) -> str:
    return f"invoice-{number}"


def revenue_workflow_id(deal_id: str, activation: str) -> str:
    return f"revenue-{deal_id}-{activation}"


def subscription_billing_workflow_id(deal_id: str, sku: str) -> str:
    return f"subscription-billing-{deal_id}-{sku}"


def lead_import_workflow_id(import_id: str) -> str:
    return f"lead-import-{import_id}"


def deal_id_of(workflow_id: str) -> str | None:
    """The deal a deal workflow's id names (None for other workflows): for logs and traces."""
    return workflow_id.removeprefix("deal-") if workflow_id.startswith("deal-") else None
