"""Bearer tokens: short-lived HS256 JWTs naming the user and role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from pydantic import BaseModel

from adapters.storage.users import User
from config import Settings

ALGORITHM = "HS256"


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


def issue_token(user: User, settings: Settings) -> TokenOut:
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=settings.token_minutes)
    claims = {
        "sub": user.username,
        "role": user.role,
        "ver": user.token_version,
        "iat": now,
        "exp": now + lifetime,
        "aud": "l2c",
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)
    return TokenOut(access_token=token, expires_in=int(lifetime.total_seconds()))


class TokenClaims(BaseModel):
    username: str
    version: int


def token_claims(token: str, settings: Settings) -> TokenClaims | None:
    """Whose a genuine, unexpired token is, and of which token version; else None."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            audience="l2c",
            options={"require": ["sub", "exp", "ver"]},
        )
    except jwt.PyJWTError:
        return None
    subject, version = claims.get("sub"), claims.get("ver")
    if not isinstance(subject, str) or not isinstance(version, int):
        return None
    return TokenClaims(username=subject, version=version)
