"""Deterministic orchestration: the deal workflow and its per-invoice collection children."""
