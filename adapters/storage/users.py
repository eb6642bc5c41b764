"""Users of l2c: their role, e-mail and argon2 password hash. Every change of a user is an
audit event on the `users` chain, written in the change's transaction (so the engine must
carry the audit key: adapters/storage/audit.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects.postgresql import insert

from domain.users import Role

from .audit import append_event
from .tables import users

USERS_CHAIN = "users"

_hasher = PasswordHasher()
# Verifying against this keeps an unknown user as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-password")


class User(BaseModel):
    username: str
    role: Role
    email: str
    active: bool
    token_version: int = Field(default=0, exclude=True)  # tokens of other versions are void
    locale: str | None = None  # how the UI shows them numbers and times; None: the default
    time_zone: str | None = None
    team: str | None = None  # the forecast's team roll-up; None: no team


DEV_USERS: tuple[tuple[str, Role], ...] = (
    ("rep1", Role.SALES_REP),
    ("rep2", Role.SALES_REP),
    ("manager", Role.SALES_MANAGER),
    ("finance", Role.FINANCE),
    ("ops", Role.OPS),
    ("admin", Role.ADMIN),
)


class UserDirectory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        username: str,
        role: Role,
        email: str,
        password: str,
        replace: bool = False,
        by: str = "system",
    ) -> None:
        values = {
            "username": username,
            "role": role,
            "email": email,
            "password_hash": _hasher.hash(password),
            "active": True,
            "created_at": datetime.now(UTC),
        }
        statement = insert(users).values(**values)
        if replace:
            kept = ("username", "created_at")
            statement = statement.on_conflict_do_update(
                index_elements=["username"],
                set_={k: v for k, v in values.items() if k not in kept}
                | {"token_version": users.c.token_version + 1},  # a new password revokes
            )
        else:
            statement = statement.on_conflict_do_nothing()
        with self.engine.begin() as conn:
            written = conn.execute(statement.returning(users.c.username)).first()
            if written is not None:
                data = {"username": username, "role": role.value, "email": email}
                action = "user.saved" if replace else "user.added"
                _audit(conn, by, action, data | {"password_set": True})

    def seed_dev_users(self, password: str, mail_domain: str = "l2c.local") -> None:
        """The users of shared/API.md; existing ones are left as they are."""
        for username, role in DEV_USERS:
            self.add(username, role, f"{username}@{mail_domain}", password)

    def get(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return None if row is None else User.model_validate(dict(row._mapping))

    def authenticate(self, username: str, password: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        stored = row.password_hash if row is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        return User.model_validate(dict(row._mapping))

    def active_in(self, username: str, roles: tuple[Role, ...]) -> User | None:
        """The user, if active and in one of `roles`."""
        user = self.get(username)
        return user if user is not None and user.active and user.role in roles else None

    def all(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.username)).all()
        return [User.model_validate(dict(row._mapping)) for row in rows]

    def set_active(self, username: str, active: bool, by: str = "system") -> bool:
        with self.engine.begin() as conn:
            found = conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(active=active, token_version=users.c.token_version + 1)
                .returning(users.c.username)
            ).first()
            if found is not None:
                action = "user.enabled" if active else "user.disabled"
                _audit(conn, by, action, {"username": username})
        return found is not None

    def set_display(
        self, username: str, locale: str | None, time_zone: str | None, by: str = "system"
    ) -> bool:
        """The locale and time zone the UI formats for this user (None: the company's)."""
        with self.engine.begin() as conn:
            found = conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(locale=locale, time_zone=time_zone)
                .returning(users.c.username)
            ).first()
            if found is not None:
                shown = {"username": username, "locale": locale, "time_zone": time_zone}
                _audit(conn, by, "user.display_changed", shown)
        return found is not None

    def set_role(self, username: str, role: Role, by: str = "system") -> bool:
        with self.engine.begin() as conn:
            before = conn.execute(
                select(users.c.role).where(users.c.username == username).with_for_update()
            ).scalar()
            found = conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(role=role, token_version=users.c.token_version + 1)
                .returning(users.c.username)
            ).first()
            if found is not None:
                old = Role(before).value if before is not None else None
                shown = {"username": username, "from_role": old, "to_role": role.value}
                _audit(conn, by, "user.role_changed", shown)
        return found is not None

    def set_team(self, username: str, team: str | None, by: str = "system") -> bool:
        """Put a user in a team (None: in none), for the forecast's team roll-up."""
        with self.engine.begin() as conn:
            found = conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(team=team)
                .returning(users.c.username)
            ).first()
            if found is not None:
                _audit(conn, by, "user.team_set", {"username": username, "team": team})
        return found is not None

    def revoke_tokens(self, username: str) -> None:
        """Every token issued to this user so far stops working (logout, compromise)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(token_version=users.c.token_version + 1)
            )

    def emails_of_role(self, role: Role, exclude: str | None = None) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(users.c.email)
                .where(
                    users.c.role == role,
                    users.c.active.is_(True),
                    users.c.username != (exclude or ""),
                )
                .order_by(users.c.username)
            )
            return [row.email for row in rows]


def _audit(conn: Connection, by: str, action: str, data: dict[str, Any]) -> None:
    """One event of the users chain (never a password or its hash)."""
    at = datetime.now(UTC)
    key = f"{data['username']}:{action}:{at.isoformat()}"
    append_event(conn, USERS_CHAIN, key, at, by, action, data)
