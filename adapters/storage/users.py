"""Users of l2c: their role, e-mail and argon2 password hash."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, Field
from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert

from domain.users import Role

from .tables import users

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
        self, username: str, role: Role, email: str, password: str, replace: bool = False
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
            conn.execute(statement)

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

    def set_active(self, username: str, active: bool) -> bool:
        with self.engine.begin() as conn:
            found = conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(active=active, token_version=users.c.token_version + 1)
                .returning(users.c.username)
            ).first()
        return found is not None

    def set_display(self, username: str, locale: str | None, time_zone: str | None) -> bool:
        """The locale and time zone the UI formats for this user (None: the company's)."""
        with self.engine.begin() as conn:
            found = conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(locale=locale, time_zone=time_zone)
                .returning(users.c.username)
            ).first()
        return found is not None

    def set_role(self, username: str, role: Role) -> bool:
        with self.engine.begin() as conn:
            found = conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(role=role, token_version=users.c.token_version + 1)
                .returning(users.c.username)
            ).first()
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
