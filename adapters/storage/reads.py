"""Deprecated: worker.py (being rewritten elsewhere) still builds `Documents(Reads(engine))`.

Read through adapters.storage.views; delete this module once worker.py passes `Views`.
"""

from __future__ import annotations

from .views import Views as Reads

__all__ = ["Reads"]
