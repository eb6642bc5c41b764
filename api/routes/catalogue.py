"""The price book: everyone reads it, admins change it."""

from __future__ import annotations

from fastapi import APIRouter

from domain.access import Action
from domain.catalogue import PriceBookEntry

from ..deps import CurrentUser, ServicesDep, require
from ..schemas import ProductIn

router = APIRouter(tags=["catalogue"])


@router.get("/products")
def list_products(user: CurrentUser, services: ServicesDep) -> list[PriceBookEntry]:
    require(user, Action.VIEW_CATALOGUE)
    return services.reads.price_book().entries


@router.post("/products", status_code=201)
def save_product(body: ProductIn, user: CurrentUser, services: ServicesDep) -> PriceBookEntry:
    require(user, Action.MANAGE_PRODUCTS)
    services.catalogue.save(body)
    return PriceBookEntry.model_validate(body.model_dump())
