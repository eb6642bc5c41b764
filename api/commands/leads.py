"""Capturing leads, one by one or from a CSV: each valid, new lead starts its deal. And the
territories that assign imported leads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from domain.access import Action, sees_all_deals
from domain.deal import DealInput
from domain.errors import Conflict, InvalidInput, NotFound
from domain.leads import Lead
from domain.policy import DealPolicy
from domain.users import Actor, Role
from workflows.ids import deal_workflow_id
from workflows.lead_import import LeadImport

from ..lead_import import ParsedLead, RowError, parse_leads
from ..schemas import LeadCreated, LeadIn
from ..services import Services
from .authorization import authorize, may_see

SELLING_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)
# An id for the new deal, the same for every retry of one request (Idempotency-Key).
DealIds = Callable[[str], str]


class ImportedDeal(BaseModel):
    row: int
    deal_id: str
    owner: str


class DuplicateRow(BaseModel):
    row: int
    email: str
    open_deal: str | None = None  # the contact's open deal
    same_as_row: int | None = None  # an earlier row of this file


class ImportResult(BaseModel):
    """What the file holds, known at once: the deals it will start (`created`, started in
    the background: follow `progress_url`), its duplicates and its bad rows."""

    import_id: str
    progress_url: str
    created: int
    duplicates: int
    errors: list[RowError]
    deals: list[ImportedDeal]
    duplicate_rows: list[DuplicateRow]


class ImportStatus(BaseModel):
    """An import's progress: `started` of `to_create` deals so far; `done` once all are."""

    import_id: str
    created_by: str
    created_at: datetime
    rows: int
    to_create: int
    started: int
    percent: int
    done: bool
    finished_at: datetime | None
    duplicates: int
    errors: list[RowError]
    duplicate_rows: list[DuplicateRow]


def seller(services: Services, username: str, field: str = "owner") -> str:
    user = services.users.active_in(username, SELLING_ROLES)
    if user is None:
        raise InvalidInput(f"{username} is not an active seller", field=(field,))
    return user.username


def _owner(services: Services, user: Actor, body: LeadIn) -> str:
    """Whoever enters the lead owns it, unless a manager names another seller."""
    if body.owner is None or body.owner == user.username:
        return user.username
    authorize(user, Action.ASSIGN_OWNER)
    return seller(services, body.owner)


def _policy(services: Services, day_seconds: float | None = None) -> DealPolicy:
    """The current version of the company policy (one read), as a new deal keeps it: with
    this deployment's policy day, or the one an admin gave for this lead."""
    day = timedelta(seconds=day_seconds) if day_seconds else services.settings.day
    unwritable = timedelta(seconds=services.settings.unwritable_after_seconds)
    current = services.policies.current()
    return current.policy.for_deal(current.version, day, unwritable)


def create_lead(
    services: Services, user: Actor, body: LeadIn, deal_ids: DealIds
) -> Callable[[], LeadCreated]:
    """Authorize now; the returned call starts the deal (run once per Idempotency-Key).
    A lead of a contact with an open deal is refused (409), naming that deal only to a user
    who may see it."""
    authorize(user, Action.CREATE_LEAD)
    owner = _owner(services, user, body)
    if body.day_seconds is not None:
        authorize(user, Action.MANAGE_PRODUCTS)  # admins only: it changes every timer

    def start() -> LeadCreated:
        deal_id = deal_ids("")
        open_deal = services.views.deals.open_deals_by_email([body.email]).get(body.email.lower())
        if open_deal is not None and open_deal != deal_id:
            raise Conflict(_already_open(services, user, open_deal))
        deal = DealInput(
            deal_id=deal_id,
            lead=Lead.model_validate(body.model_dump(exclude={"owner", "day_seconds"})),
            owner=owner,
            created_by=user.username,
            policy=_policy(services, body.day_seconds),
        )
        state = services.temporal.open_deal(deal)
        assert state.customer is not None and state.score is not None
        return LeadCreated(
            deal_id=deal.deal_id,
            workflow_id=deal_workflow_id(deal.deal_id),
            stage=state.stage,
            owner=state.owner,
            customer=state.customer,
            score=state.score,
        )

    return start


def _already_open(services: Services, user: Actor, open_deal: str) -> str:
    """The refusal of a lead whose contact has an open deal; another rep's deal id is not
    told (it would name a deal they may not see, and invite poaching)."""
    if _may_see(services, user, open_deal):
        return f"this contact already has an open deal: {open_deal}"
    return "this contact already has an open deal (of another owner)"


def _may_see(services: Services, user: Actor, deal_id: str) -> bool:
    found = services.views.deals.row(deal_id)
    return found is not None and may_see(user, found.owner)


def _split_duplicates(
    services: Services, user: Actor, parsed: list[ParsedLead]
) -> tuple[list[ParsedLead], list[DuplicateRow]]:
    """The rows that start deals, and those that repeat an earlier row or an open deal."""
    open_deals = services.views.deals.open_deals_by_email([p.lead.email for p in parsed])
    first_row: dict[str, int] = {}
    fresh, duplicates = [], []
    for item in parsed:
        key = item.lead.email.lower()
        if key in first_row:
            duplicates.append(DuplicateRow(row=item.row, email=key, same_as_row=first_row[key]))
        elif key in open_deals:
            shown = open_deals[key] if _may_see(services, user, open_deals[key]) else None
            duplicates.append(DuplicateRow(row=item.row, email=key, open_deal=shown))
        else:
            first_row[key] = item.row
            fresh.append(item)
    return fresh, duplicates


def import_leads(
    services: Services, user: Actor, data: bytes, deal_ids: DealIds
) -> Callable[[], ImportResult]:
    """Authorize now; the returned call imports. Every valid, new row starts a deal owned by
    the assignment rules (territory, then round-robin); bad rows and duplicates are
    reported, never half-imported. The file's deals are kept with the import and started in
    the background by its workflow (the answer does not wait for them)."""
    authorize(user, Action.CREATE_LEAD)

    def run_import() -> ImportResult:
        parsed, errors = parse_leads(data)
        fresh, duplicates = _split_duplicates(services, user, parsed)
        owners = services.assignment.owners_for([item.lead.country for item in fresh])
        policy = _policy(services)  # once for the whole file
        deals = [
            DealInput(
                deal_id=deal_ids(item.lead.email.lower()),
                lead=item.lead,
                owner=owner,
                created_by=user.username,
                policy=policy,
                notify_owner=False,
            )
            for item, owner in zip(fresh, owners, strict=True)
        ]
        import_id = deal_ids("lead-import")
        report = {
            "errors": [e.model_dump(mode="json") for e in errors],
            "duplicate_rows": [d.model_dump(mode="json") for d in duplicates],
        }
        rows = len(parsed) + len({e.row for e in errors})
        started_rows = [(item.row, deal) for item, deal in zip(fresh, deals, strict=True)]
        now = datetime.now(UTC)
        services.imports.create(import_id, user.username, now, rows, started_rows, report)
        services.temporal.start_import(LeadImport(import_id=import_id))
        return ImportResult(
            import_id=import_id,
            progress_url=f"/imports/{import_id}",
            created=len(deals),
            duplicates=len(duplicates),
            errors=errors,
            deals=[
                ImportedDeal(row=item.row, deal_id=deal.deal_id, owner=deal.owner)
                for item, deal in zip(fresh, deals, strict=True)
            ],
            duplicate_rows=duplicates,
        )

    return run_import


def import_status(services: Services, user: Actor, import_id: str) -> ImportStatus:
    """Its creator, managers and admins follow an import."""
    found = services.imports.progress(import_id)
    if found is None or (found.created_by != user.username and not can_follow_imports(user)):
        raise NotFound("no such import")
    report = found.report
    return ImportStatus(
        import_id=found.import_id,
        created_by=found.created_by,
        created_at=found.created_at,
        rows=found.rows,
        to_create=found.to_create,
        started=found.started,
        percent=100 if found.to_create == 0 else found.started * 100 // found.to_create,
        done=found.finished_at is not None,
        finished_at=found.finished_at,
        duplicates=len(report.get("duplicate_rows", [])),
        errors=[RowError.model_validate(e) for e in report.get("errors", [])],
        duplicate_rows=[
            _shown(services, user, DuplicateRow.model_validate(d))
            for d in report.get("duplicate_rows", [])
        ],
    )


def _shown(services: Services, user: Actor, duplicate: DuplicateRow) -> DuplicateRow:
    """A duplicate found while the import ran names the open deal only to who may see it."""
    if duplicate.open_deal is None or sees_all_deals(user):
        return duplicate
    if _may_see(services, user, duplicate.open_deal):
        return duplicate
    return duplicate.model_copy(update={"open_deal": None})


def can_follow_imports(user: Actor) -> bool:
    return user.role in (Role.SALES_MANAGER, Role.ADMIN)


def set_territory(services: Services, user: Actor, country: str, username: str) -> str:
    """Imported leads from `country` go to this rep (admins and managers set it)."""
    authorize(user, Action.ASSIGN_OWNER)
    rep = services.users.active_in(username, (Role.SALES_REP,))
    if rep is None:
        raise InvalidInput(f"{username} is not an active sales rep", field=("username",))
    services.assignment.set_territory(country, rep.username)
    return rep.username


def territories(services: Services, user: Actor) -> dict[str, str]:
    return services.assignment.territories()


def sellers(services: Services, user: Actor) -> list[str]:
    """The active sellers a deal may be given to (for those who may assign owners)."""
    authorize(user, Action.ASSIGN_OWNER)
    return [u.username for u in services.users.all() if u.active and u.role in SELLING_ROLES]
