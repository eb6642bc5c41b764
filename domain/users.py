"""Who acts on deals: roles, and the actor carried with every command."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    SALES_REP = "sales_rep"
    SALES_MANAGER = "sales_manager"
    FINANCE = "finance"
    OPS = "ops"
    ADMIN = "admin"


class Actor(BaseModel):
    """The authenticated user (or `customer`/`system`) behind a command, set by the API only."""

    model_config = ConfigDict(frozen=True)

    username: str = Field(min_length=1, max_length=64)
    role: Role | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(username="system")

    @classmethod
    def customer(cls, name: str = "customer") -> Actor:
        return cls(username=f"customer:{name}"[:64])
