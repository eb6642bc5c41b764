"""The rules of Lead-to-Cash: pure pydantic models and functions, no IO, no clock.

Every other layer imports from here; this package imports nothing of ours.
"""
