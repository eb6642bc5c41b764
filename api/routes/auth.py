"""POST /auth/token: username and password for a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from ..auth import TokenOut, issue_token
from ..deps import ServicesDep
from ..errors import Unauthenticated

router = APIRouter(tags=["auth"])


@router.post("/auth/token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], services: ServicesDep) -> TokenOut:
    user = services.users.authenticate(form.username, form.password)
    if user is None:
        raise Unauthenticated("wrong username or password")
    return issue_token(user, services.settings)
