"""Metrics, traces and logs: how operators see the API and the workers (docs/operations.md,
"Monitoring" and "Tracing and logs")."""
