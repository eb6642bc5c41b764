"""Bank statements: import, read, match a line by hand (docs/cash.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, UploadFile

from adapters.bank import MAX_BYTES
from adapters.storage.views.bank_statements import BankLine, BankStatementPage

from ..commands import bank_statements
from ..commands.bank_statements import MatchIn, StatementImported
from ..deps import CurrentUser, ServicesDep

router = APIRouter(tags=["finance"])


@router.post("/bank-statements", status_code=201)
def import_statement(
    file: Annotated[UploadFile, File(description="camt.053 XML, or CSV (docs/cash.md)")],
    user: CurrentUser,
    services: ServicesDep,
) -> StatementImported:
    """Each line matched, left for finance, or ignored; the same statement again changes
    nothing."""
    return bank_statements.import_statement(services, user, file.file.read(MAX_BYTES + 1))


@router.get("/bank-statements/{statement_id}")
def get_statement(statement_id: str, user: CurrentUser, services: ServicesDep) -> BankStatementPage:
    return bank_statements.statement(services, user, statement_id)


@router.post("/bank-statements/{statement_id}/lines/{n}/match")
def match_line(
    statement_id: str,
    n: Annotated[int, Path(ge=1)],
    body: MatchIn,
    user: CurrentUser,
    services: ServicesDep,
) -> BankLine:
    """Finance says which invoice an unmatched line pays (409 once it is matched)."""
    return bank_statements.match_line(services, user, statement_id, n, body)
