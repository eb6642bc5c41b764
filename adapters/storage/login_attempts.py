"""Login tries, counted per client address and user name, claimed before the password is
checked: parallel wrong guesses cannot slip past the throttle between count and record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, func, select, text

from domain.login import LoginThrottle

from .tables import login_failures


class LoginAttempts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(
        self, client: str, username: str, throttle: LoginThrottle, now: datetime
    ) -> int | None:
        """Record a try as a failure unless the throttle refuses it (then None); its id.

        Count and insert happen under a lock per client address, so of N parallel tries
        only as many as the throttle allows are claimed."""
        since = now - throttle.window
        with self.engine.begin() as conn:
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:c))"), {"c": "login:" + client}
            )
            recent = login_failures.c.at >= since
            from_client = login_failures.c.client == client
            for_name = conn.execute(
                select(func.count()).where(
                    recent, from_client, login_failures.c.username == username
                )
            ).scalar_one()
            overall = conn.execute(select(func.count()).where(recent, from_client)).scalar_one()
            if throttle.refuses(int(for_name), int(overall)):
                return None
            return int(
                conn.execute(
                    login_failures.insert()
                    .values(client=client, username=username, at=now)
                    .returning(login_failures.c.id)
                ).scalar_one()
            )

    def succeeded(self, client: str, username: str) -> None:
        """A right password forgets this client's failures for this name (the claim too)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(login_failures).where(
                    login_failures.c.client == client, login_failures.c.username == username
                )
            )
