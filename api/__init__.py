"""The HTTP API of l2c (shared/API.md): thin routes over Temporal and Postgres."""
