"""The price book: everyone reads it, admins change it."""

from __future__ import annotations

from domain.access import Action
from domain.catalogue import PriceBookEntry
from domain.users import Actor

from ..schemas import ProductIn
from ..services import Services
from .authorization import authorize


def products(services: Services, user: Actor) -> list[PriceBookEntry]:
    authorize(user, Action.VIEW_CATALOGUE)
    return services.catalogue.price_book().entries


def save_product(services: Services, user: Actor, body: ProductIn) -> PriceBookEntry:
    authorize(user, Action.MANAGE_PRODUCTS)
    services.catalogue.save(body)
    return PriceBookEntry.model_validate(body.model_dump())
