"""Process logging: text for people (the default) or one JSON object a line for a log
pipeline (`L2C_LOG_FORMAT=json`). Either way, a record logged while a workflow or an activity
runs carries its `workflow_id` and `run_id`, and a deal's `deal_id`; one logged while the API
answers a request for a deal carries the deal's id from the path."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter
from temporalio import activity, workflow

from workflows.ids import deal_id_of

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(name)s %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Chatter on every command: alembic's plugin set-up, the SMTP sink, each HTTP request.
QUIET = ("alembic.runtime.plugins", "mail.log", "httpx")

# The ASGI scope of the request being answered: routing adds its path parameters to this
# very dict, so a record logged in the route (or by uvicorn's access log) finds the deal.
RequestScope = MutableMapping[str, Any]
request_scope: ContextVar[RequestScope | None] = ContextVar("l2c_request_scope", default=None)


class TemporalContext(logging.Filter):
    """Adds the ids of the workflow, activity or request a record was logged in."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context_ids().items():
            if value and not hasattr(record, name):
                setattr(record, name, value)
        return True


def _context_ids() -> dict[str, str | None]:
    if activity.in_activity():
        info = activity.info()
        return {
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "deal_id": deal_id_of(info.workflow_id or ""),
            "activity": info.activity_type,
        }
    if workflow.in_workflow():
        winfo = workflow.info()
        return {
            "workflow_id": winfo.workflow_id,
            "run_id": winfo.run_id,
            "deal_id": deal_id_of(winfo.workflow_id),
        }
    scope = request_scope.get()
    if scope is not None:
        deal_id = scope.get("path_params", {}).get("deal_id")
        return {"deal_id": str(deal_id) if deal_id is not None else None}
    return {}


def log_handler(log_format: LogFormat, stream: Any = None) -> logging.Handler:
    """A handler in the chosen format, with the workflow, activity and request ids."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"})
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(TemporalContext())
    return handler


def configure_logging(log_format: LogFormat = "text") -> None:
    """The process's root handler (replacing any), INFO and up."""
    logging.basicConfig(level=logging.INFO, handlers=[log_handler(log_format)], force=True)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    if log_format == "json":  # the ids are fields: not repeated in the message too
        workflow.logger.workflow_info_on_message = False
        activity.logger.activity_info_on_message = False
