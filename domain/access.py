"""Who may do what: one table of role x action x ownership, used by the API and workflows."""

from __future__ import annotations

from enum import StrEnum

from .users import Actor, Role


class Action(StrEnum):
    CREATE_LEAD = "create_lead"
    ASSIGN_OWNER = "assign_owner"
    VIEW_DEAL = "view_deal"
    QUALIFY = "qualify"
    QUOTE = "quote"
    DELIVER = "deliver"
    CANCEL = "cancel"
    CLOSE_LOST = "close_lost"
    VIEW_INVOICES = "view_invoices"
    RECORD_PAYMENT = "record_payment"
    ISSUE_CREDIT_NOTE = "issue_credit_note"
    WRITE_OFF = "write_off"
    VIEW_LEDGER = "view_ledger"
    MANAGE_PRODUCTS = "manage_products"
    VIEW_CATALOGUE = "view_catalogue"
    VIEW_KPIS = "view_kpis"
    MANAGE_USERS = "manage_users"
    RESUME = "resume"
    SET_CREDIT_TERMS = "set_credit_terms"
    EDIT_CUSTOMER = "edit_customer"  # address, country, VAT id, business or consumer
    VIEW_POLICY = "view_policy"
    CHANGE_POLICY = "change_policy"
    READ_PAYLOADS = "read_payloads"  # sealed workflow payloads, in the Temporal UI
    REFUND_CREDIT = "refund_credit"
    MANAGE_EMAIL_TEMPLATES = "manage_email_templates"
    MANAGE_WEBHOOKS = "manage_webhooks"
    SET_FORECAST = "set_forecast"  # a deal's forecast category and close date
    VIEW_FORECAST = "view_forecast"  # a rep: only their own row
    SET_QUOTA = "set_quota"
    TAKE_FORECAST_SNAPSHOT = "take_forecast_snapshot"
    VIEW_WIN_MODELS = "view_win_models"  # trained models and their holdout metrics


_ALL = frozenset(Role)
_MANAGERS = frozenset({Role.SALES_MANAGER, Role.ADMIN})

# action -> (roles allowed on any deal, roles allowed only on deals they own)
POLICY: dict[Action, tuple[frozenset[Role], frozenset[Role]]] = {
    Action.CREATE_LEAD: (frozenset({Role.SALES_REP, *_MANAGERS}), frozenset()),
    Action.ASSIGN_OWNER: (_MANAGERS, frozenset()),
    Action.VIEW_DEAL: (_ALL - {Role.SALES_REP}, frozenset({Role.SALES_REP})),
    Action.QUALIFY: (_MANAGERS, frozenset({Role.SALES_REP})),
    Action.QUOTE: (_MANAGERS, frozenset({Role.SALES_REP})),
    Action.DELIVER: (
        frozenset({Role.OPS, Role.ADMIN}),
        frozenset({Role.SALES_REP, Role.SALES_MANAGER}),
    ),
    Action.CANCEL: (_MANAGERS, frozenset({Role.SALES_REP})),
    Action.CLOSE_LOST: (_MANAGERS, frozenset({Role.SALES_REP})),
    Action.VIEW_INVOICES: (
        frozenset({Role.FINANCE, Role.OPS, Role.ADMIN, Role.SALES_MANAGER}),
        frozenset({Role.SALES_REP}),
    ),
    Action.RECORD_PAYMENT: (frozenset({Role.FINANCE}), frozenset()),
    Action.ISSUE_CREDIT_NOTE: (frozenset({Role.FINANCE}), frozenset()),
    Action.WRITE_OFF: (frozenset({Role.FINANCE}), frozenset()),
    Action.VIEW_LEDGER: (frozenset({Role.FINANCE, Role.ADMIN}), frozenset()),
    Action.MANAGE_PRODUCTS: (frozenset({Role.ADMIN}), frozenset()),
    Action.VIEW_CATALOGUE: (_ALL, frozenset()),
    Action.VIEW_KPIS: (frozenset({Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN}), frozenset()),
    Action.MANAGE_USERS: (frozenset({Role.ADMIN}), frozenset()),
    Action.RESUME: (
        frozenset({Role.SALES_MANAGER, Role.OPS, Role.ADMIN}),
        frozenset({Role.SALES_REP}),
    ),
    Action.SET_CREDIT_TERMS: (frozenset({Role.FINANCE, Role.ADMIN}), frozenset()),
    # A rep: the customers of their own deals (a customer is theirs to see through one).
    Action.EDIT_CUSTOMER: (
        frozenset({Role.FINANCE, Role.ADMIN}),
        frozenset({Role.SALES_REP, Role.SALES_MANAGER}),
    ),
    Action.VIEW_POLICY: (frozenset({Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN}), frozenset()),
    Action.CHANGE_POLICY: (frozenset({Role.ADMIN}), frozenset()),
    Action.REFUND_CREDIT: (frozenset({Role.FINANCE}), frozenset()),
    Action.READ_PAYLOADS: (frozenset({Role.OPS, Role.ADMIN}), frozenset()),
    Action.MANAGE_EMAIL_TEMPLATES: (frozenset({Role.ADMIN}), frozenset()),
    Action.MANAGE_WEBHOOKS: (frozenset({Role.ADMIN}), frozenset()),
    Action.SET_FORECAST: (_MANAGERS, frozenset({Role.SALES_REP})),
    Action.VIEW_FORECAST: (_MANAGERS, frozenset({Role.SALES_REP})),
    Action.SET_QUOTA: (frozenset({Role.ADMIN}), frozenset()),
    Action.TAKE_FORECAST_SNAPSHOT: (_MANAGERS, frozenset()),
    Action.VIEW_WIN_MODELS: (_MANAGERS, frozenset()),
}


def can(actor: Actor, action: Action, owner: str | None = None) -> bool:
    """True when `actor` may do `action`, on a deal owned by `owner` where one is concerned."""
    if actor.role is None:
        return False
    anyone, owners_only = POLICY[action]
    if actor.role in anyone:
        return True
    return actor.role in owners_only and owner is not None and owner == actor.username


def sees_all_deals(actor: Actor) -> bool:
    """Reps see their own deals only; everyone else sees every deal."""
    return actor.role is not None and actor.role in POLICY[Action.VIEW_DEAL][0]
