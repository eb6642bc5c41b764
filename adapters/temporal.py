"""The one way to connect to Temporal: pydantic payloads, the configured namespace."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from config import Settings


async def connect_temporal(settings: Settings, address: str | None = None) -> Client:
    target = address or settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"
    return await Client.connect(
        target, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
    )
