"""The deal workflow, one module per stage (see workflow.py)."""

from .workflow import DealWorkflow

__all__ = ["DealWorkflow"]
