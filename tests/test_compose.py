"""docker-compose.yml, checked without a Docker engine: it parses, its services are the
documented ones, and what it sets agrees with the code (settings, commands, attributes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cli import parser
from config import Settings
from workflows.search_attributes import FOR_DEV_SERVER

ROOT = Path(__file__).parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
L2C_SERVICES = ("migrate", "api", "worker")


def env_names() -> set[str]:
    """Every environment variable Settings reads."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(field.alias or f"L2C_{name.upper()}")
    return names


def test_the_stack_has_every_piece():
    assert set(SERVICES) >= {
        "temporal-db",
        "temporal",
        "temporal-ui",
        "temporal-search-attributes",
        "app-db",
        "mailpit",
        *L2C_SERVICES,
    }


@pytest.mark.parametrize("service", L2C_SERVICES)
def test_every_variable_given_to_l2c_is_a_setting(service):
    given = set(SERVICES[service]["environment"])
    unknown = given - env_names()
    assert not unknown, f"{service} sets variables l2c does not read: {unknown}"
    assert {"DATABASE_URL", "TEMPORAL_ADDRESS", "SMTP_HOST", "L2C_SECRET_KEY"} <= given


def test_the_secret_must_be_given():
    secret = SERVICES["api"]["environment"]["L2C_SECRET_KEY"]
    assert secret.startswith("${L2C_SECRET_KEY:?")


@pytest.mark.parametrize("service", L2C_SERVICES)
def test_l2c_services_run_real_commands(service):
    command = SERVICES[service]["command"]
    assert command[0] == "l2c"
    parser().parse_args(command[1:])  # exits (SystemExit) on an unknown command


def test_the_search_attributes_registered_are_the_workflows_ones():
    script = " ".join(SERVICES["temporal-search-attributes"]["command"])
    assert dict(re.findall(r"(\w+)=(Keyword|Double|Int|Text|Bool|Datetime)", script)) == (
        FOR_DEV_SERVER
    )


def test_ports_are_the_documented_ones():
    assert "8000:8000" in SERVICES["api"]["ports"]
    assert "8233:8080" in SERVICES["temporal-ui"]["ports"]
    readme = (ROOT / "README.md").read_text()
    assert ":8000" in readme and ":8233" in readme


def test_api_and_workers_wait_for_migrations_and_temporal():
    for service in ("api", "worker"):
        needs = SERVICES[service]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["temporal"]["condition"] == "service_healthy"
    assert SERVICES["worker"]["deploy"]["replicas"] >= 2


def test_the_image_installs_l2c_on_python_3_11_and_serves_the_api():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert "pip install ." in dockerfile
    assert "L2C_API_HOST=0.0.0.0" in dockerfile
    assert "USER l2c" in dockerfile
