"""The price book: everyone reads it, admins change it."""

from __future__ import annotations

from fastapi import APIRouter

from domain.catalogue import PriceBookEntry

from ..commands import catalogue
from ..deps import CurrentUser, ServicesDep
from ..schemas import ProductIn

router = APIRouter(tags=["catalogue"])


@router.get("/products")
def list_products(user: CurrentUser, services: ServicesDep) -> list[PriceBookEntry]:
    return catalogue.products(services, user)


@router.post("/products", status_code=201)
def save_product(body: ProductIn, user: CurrentUser, services: ServicesDep) -> PriceBookEntry:
    return catalogue.save_product(services, user, body)
