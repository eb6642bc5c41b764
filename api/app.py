"""The FastAPI application: one Temporal client and one engine, made in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError

from adapters.observability.metrics import ApiMetrics
from adapters.observability.tracing import instrument_app
from adapters.storage.db import make_engine
from adapters.temporal import connect_temporal
from config import Settings, get_settings
from domain.errors import DomainError

from .access_log import mask_access_log
from .browser_links import unauthenticated_handler
from .errors import Unauthenticated, database_error_handler, domain_error_handler
from .limits import BodyLimit
from .request_metrics import RequestMetrics
from .routes import (
    auth,
    bank,
    catalogue,
    codec,
    deals,
    email_templates,
    finance,
    forecast,
    health,
    leads,
    metrics,
    notes,
    people,
    policy,
    portal,
    public_leads,
    reports,
    subscriptions,
    ui,
    ui_admin,
    ui_cash,
    ui_deals,
    ui_email_templates,
    ui_exports,
    ui_finance,
    ui_forecast,
    ui_mail,
    ui_ops,
    ui_quotes,
    ui_reports,
    ui_sales,
    ui_subscriptions,
    webhooks,
    win_models,
)
from .services import make_services


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    settings.check_secret()
    app_metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.database_url is None:
            raise ValueError("DATABASE_URL is not set")
        engine = make_engine(
            settings.database_url,
            pool_size=min(settings.request_threads, 20),
            audit_key=settings.audit_secret,
            fail_fast=True,
        )
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        client = await connect_temporal(settings)
        mask_access_log()  # after uvicorn configured its loggers
        app.state.services = make_services(settings, engine, client, app_metrics)
        # The forecast's win probabilities: the learned model's, the stage rules until one
        # is trained (the same scorer as the deal page's).
        app.state.win_scorer = app.state.services.win_scores
        app_metrics.watch_database(engine)
        try:
            yield
        finally:
            app_metrics.unwatch()
            engine.dispose()

    app = FastAPI(
        title="l2c",
        version="0.1.0",
        lifespan=lifespan,
        description="Lead-to-Cash on Temporal. See shared/API.md for the contract.",
    )
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(Unauthenticated, unauthenticated_handler)
    app.add_exception_handler(DBAPIError, database_error_handler)
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestMetrics, metrics=app_metrics)  # outermost: sees every answer
    app.state.metrics = app_metrics
    app.state.settings = settings
    for module in (
        auth,
        health,
        leads,
        deals,
        people,
        portal,
        catalogue,
        finance,
        bank,
        reports,
        policy,
        subscriptions,
        codec,
        email_templates,
        notes,
        forecast,
        webhooks,
        public_leads,
        metrics,
        win_models,
    ):
        app.include_router(module.router)
    # The back office's pages before ui_deals: /ui/deals/export.csv is not a deal's page.
    back_office = (ui_exports, ui_ops, ui_finance, ui_cash, ui_admin)
    pages = (
        ui_forecast,  # before ui_deals: its POST /ui/deals/{id}/forecast is a form, not a page
        ui_deals,
        ui_reports,
        ui_mail,
        ui_email_templates,
        ui_sales,
        ui_quotes,
        ui_subscriptions,
    )
    for page in (ui, *back_office, *pages):
        app.include_router(page.router)
    app.mount("/ui/static", StaticFiles(packages=[("api", "static")]), name="ui-static")
    instrument_app(app, settings)
    return app
