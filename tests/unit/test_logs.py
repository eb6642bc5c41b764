"""Log lines: JSON with the ids of the workflow, activity or request they were logged in,
or text for people, the default."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Iterator

import pytest
from temporalio.testing import ActivityEnvironment

from adapters.observability.logs import log_handler, request_scope
from config import Settings


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """A JSON handler on a logger of our own (the root's handlers are pytest's)."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    logger = logging.getLogger("l2c.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def parsed(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_logged_in_a_deals_activity_carries_the_deal_and_workflow_ids(json_lines):
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, workflow_id="deal-D42", workflow_run_id="run-7", activity_type="commit_deal"
    )
    env.run(lambda: logging.getLogger("l2c.test_logs").warning("commit %s", "refused"))

    (line,) = parsed(json_lines)
    assert line["message"] == "commit refused"
    assert line["level"] == "WARNING" and line["logger"] == "l2c.test_logs"
    assert (line["workflow_id"], line["run_id"], line["deal_id"]) == ("deal-D42", "run-7", "D42")
    assert line["activity"] == "commit_deal" and "asctime" in line


def test_an_invoice_workflows_activity_has_no_deal_id(json_lines):
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="invoice-2026-0001")
    env.run(lambda: logging.getLogger("l2c.test_logs").info("collecting"))

    (line,) = parsed(json_lines)
    assert line["workflow_id"] == "invoice-2026-0001" and "deal_id" not in line


def test_a_record_logged_while_answering_a_request_for_a_deal_carries_its_id(json_lines):
    token = request_scope.set({"path": "/deals/D7/qualify", "path_params": {"deal_id": "D7"}})
    try:
        logging.getLogger("l2c.test_logs").info("qualifying")
    finally:
        request_scope.reset(token)
    logging.getLogger("l2c.test_logs").info("no request")

    first, second = parsed(json_lines)
    assert first["deal_id"] == "D7" and "workflow_id" not in first
    assert "deal_id" not in second


def test_text_is_the_default_and_json_one_setting_away():
    assert Settings(_env_file=None).log_format == "text"
    assert Settings(_env_file=None, log_format="json").log_format == "json"
    stream = io.StringIO()
    handler = log_handler("text", stream)
    handler.handle(logging.makeLogRecord({"name": "l2c", "msg": "hello", "levelno": 20}))
    assert stream.getvalue().rstrip().endswith("l2c hello")
