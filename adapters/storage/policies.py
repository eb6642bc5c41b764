"""The versions of the company policy: the newest read for each new deal, and a change
written as the next version with its audit event, in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, text

from domain.policy import (
    CompanyPolicy,
    PolicyVersion,
    PolicyVersionSummary,
    policy_changes,
)

from .audit import append_event
from .tables import policy_versions

# The audit chain of policy changes: its own chain in audit_events (under this name, where a
# deal's id goes), keyed and hash-chained as a deal's is; `l2c audit verify --deal policy`.
POLICY_CHAIN = "policy"


def _version(row: Any) -> PolicyVersion:
    # A version written by a newer build may carry fields this one does not know.
    policy = CompanyPolicy.model_validate(row.body, extra="ignore")
    return PolicyVersion(
        version=row.version,
        created_by=row.created_by,
        created_at=row.created_at,
        note=row.note,
        policy=policy,
    )


class PolicyVersions:
    """Versions of the company policy, numbered from 1 without gaps."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def current(self) -> PolicyVersion:
        """The newest version: one read of the primary key's index."""
        query = select(policy_versions).order_by(policy_versions.c.version.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise RuntimeError("no policy version: the database is not migrated (l2c migrate)")
        return _version(row)

    def get(self, version: int) -> PolicyVersion | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(policy_versions).where(policy_versions.c.version == version)
            ).first()
        return None if row is None else _version(row)

    def summaries(self) -> list[PolicyVersionSummary]:
        """Every version, newest first, without its policy."""
        columns = [c for c in policy_versions.c if c.name != "body"]
        query = select(*columns).order_by(policy_versions.c.version.desc())
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [PolicyVersionSummary.model_validate(dict(row._mapping)) for row in rows]

    def change(
        self, policy: CompanyPolicy, by: str, at: datetime, note: str | None
    ) -> tuple[PolicyVersion, bool]:
        """Write `policy` as the next version, with an audit event naming the old and new
        versions and each changed field; or, when it equals the newest version, nothing
        (False): a repeated change is a no-op."""
        with self.engine.begin() as conn:
            # Writers wait for one another (readers do not): the next number is free.
            conn.execute(text("LOCK TABLE policy_versions IN EXCLUSIVE MODE"))
            row = conn.execute(
                select(policy_versions).order_by(policy_versions.c.version.desc()).limit(1)
            ).one()
            newest = _version(row)
            if newest.policy == policy:
                return newest, False
            added = PolicyVersion(
                version=newest.version + 1, created_by=by, created_at=at, note=note, policy=policy
            )
            conn.execute(
                policy_versions.insert().values(
                    **added.model_dump(exclude={"policy"}),
                    body=policy.model_dump(mode="json"),
                )
            )
            append_event(
                conn,
                POLICY_CHAIN,
                f"policy:{added.version}",
                at,
                by,
                "policy.changed",
                {
                    "from_version": newest.version,
                    "to_version": added.version,
                    "changes": [
                        c.model_dump(mode="json") for c in policy_changes(newest.policy, policy)
                    ],
                    "note": note,
                },
            )
        return added, True
