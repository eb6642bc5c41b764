"""Fixtures of the workflow tests: the time-skipping server and worker (tests/timeskip.py)."""

from tests.timeskip import timeskip

__all__ = ["timeskip"]
