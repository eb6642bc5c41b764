"""The one way to connect to Temporal: pydantic payloads (sealed when payload keys are set:
adapters/payload_codec.py), the configured namespace."""

from __future__ import annotations

from temporalio.client import Client

from config import Settings

from .payload_codec import data_converter


async def connect_temporal(settings: Settings, address: str | None = None) -> Client:
    target = address or settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"
    return await Client.connect(
        target,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings.payload_keys),
    )
