"""Tracing is one setting away, and off by default; spans go where the OTel variable says."""

from __future__ import annotations

from adapters.observability.tracing import temporal_interceptors, traces_url
from config import Settings


def test_tracing_is_off_unless_enabled():
    settings = Settings(_env_file=None, otel_enabled=False)
    assert Settings.model_fields["otel_enabled"].default is False
    assert temporal_interceptors(settings) == []


def test_spans_go_to_the_standard_otlp_endpoint_plus_the_traces_path():
    at = Settings(_env_file=None, OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318/")
    assert traces_url(at) == "http://collector:4318/v1/traces"
    assert traces_url(Settings(_env_file=None, OTEL_EXPORTER_OTLP_ENDPOINT=None)) is None
