"""Assignment of new leads to reps: territories first, then round-robin (a turn in Postgres)."""

from __future__ import annotations

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert

from domain.assignment import choose_owner
from domain.users import Role

from .tables import assignment_turns, territories, users


class AssignmentRules:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def owners_for(self, countries: list[str | None]) -> list[str]:
        """One owner per lead, in order, taking round-robin turns atomically."""
        with self.engine.begin() as conn:
            reps = list(
                conn.execute(
                    select(users.c.username)
                    .where(users.c.role == Role.SALES_REP, users.c.active.is_(True))
                    .order_by(users.c.username)
                ).scalars()
            )
            owned = {row.country: row.username for row in conn.execute(select(territories))}
            conn.execute(insert(assignment_turns).values(id=1, turn=0).on_conflict_do_nothing())
            turn = conn.execute(
                select(assignment_turns.c.turn).where(assignment_turns.c.id == 1).with_for_update()
            ).scalar_one()
            owners = []
            for country in countries:
                owner, used_turn = choose_owner(reps, owned, country, turn)
                turn += used_turn
                owners.append(owner)
            conn.execute(
                update(assignment_turns).where(assignment_turns.c.id == 1).values(turn=turn)
            )
            return owners

    def set_territory(self, country: str, username: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(territories)
                .values(country=country, username=username)
                .on_conflict_do_update(index_elements=["country"], set_={"username": username})
            )

    def territories(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(territories).order_by(territories.c.country))
            return {row.country: row.username for row in rows}
