"""Portal tokens stay out of the access log: a portal link is the customer's key to accept
and sign, and logs are read by more people than the customer."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_PORTAL_TOKEN = re.compile(r"(/portal/)[^/?#\s]+")


def mask_portal_tokens(text: str) -> str:
    return _PORTAL_TOKEN.sub(r"\1***", text)


class PortalTokenMask(logging.Filter):
    """Rewrites uvicorn's access records (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_portal_tokens(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = mask_portal_tokens(record.msg)
        return True


def mask_access_log() -> None:
    """Install the mask on uvicorn's access logger, once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, PortalTokenMask) for f in logger.filters):
        logger.addFilter(PortalTokenMask())
