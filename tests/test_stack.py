"""`l2c dev` starts only what is not configured, refuses busy ports, and leaves a note by
which a second terminal finds it."""

from __future__ import annotations

import os
import socket
import subprocess

from adapters.embedded import free_port
from adapters.embedded.running import RunningDev, psql_url
from cli import with_running_dev
from config import Settings
from stack import Stack


def test_configured_servers_are_used_and_not_started(tmp_path):
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url="postgresql://l2c@db.example:5432/l2c",
        temporal_address="temporal.example:7233",
        smtp_host="mail.example",
        smtp_port=2525,
    )
    stack = Stack(settings)
    used = stack.start()
    assert (stack.postgres, stack.temporal, stack.smtp) == (None, None, None)
    assert (used.database_url, used.temporal_address, used.smtp_host, used.smtp_port) == (
        "postgresql://l2c@db.example:5432/l2c",
        "temporal.example:7233",
        "mail.example",
        2525,
    )
    stack.stop()


def test_environment_names_are_the_documented_ones(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://a@b/c")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "t:1")
    monkeypatch.setenv("SMTP_HOST", "m")
    monkeypatch.setenv("SMTP_PORT", "26")
    monkeypatch.setenv("L2C_API_PORT", "9000")
    monkeypatch.setenv("L2C_DAY_SECONDS", "2")
    settings = Settings(_env_file=None)
    assert (
        settings.database_url,
        settings.temporal_address,
        settings.smtp_host,
        settings.smtp_port,
        settings.api_port,
        settings.day.total_seconds(),
    ) == ("postgresql://a@b/c", "t:1", "m", 26, 9000, 2.0)


def test_a_busy_port_is_refused_naming_its_setting(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(_env_file=None, data_dir=tmp_path, api_port=free_port())
        assert Stack(settings.model_copy(update={"postgres_port": port})).busy_port() == (
            f"port {port} is in use (L2C_POSTGRES_PORT); "
            "stop what runs there or set L2C_POSTGRES_PORT"
        )
    configured = settings.model_copy(
        update={"database_url": "postgresql://db.example/l2c", "postgres_port": port}
    )
    assert Stack(configured).busy_port() is None  # a configured server takes no local port


def test_the_dev_note_counts_only_while_its_l2c_dev_lives(tmp_path):
    note = RunningDev(
        pid=os.getpid(),
        api_url="http://127.0.0.1:8000",
        database_url="postgresql+psycopg2://postgres@127.0.0.1:5433/l2c",
        temporal_address="127.0.0.1:7233",
        temporal_ui="http://127.0.0.1:8233",
        dev_password="pw",
    )
    note.write(tmp_path)
    assert RunningDev.read(tmp_path) == note
    gone = subprocess.Popen(["true"])
    gone.wait()
    note.model_copy(update={"pid": gone.pid}).write(tmp_path)
    assert RunningDev.read(tmp_path) is None  # l2c dev was killed: the note is stale


def test_a_second_terminal_fills_in_only_what_is_not_configured(tmp_path):
    note = RunningDev(
        pid=os.getpid(),
        api_url="http://127.0.0.1:8000",
        database_url="postgresql+psycopg2://postgres@127.0.0.1:5433/l2c",
        temporal_address="127.0.0.1:7233",
        temporal_ui="http://127.0.0.1:8233",
        dev_password="from-dev",
    )
    note.write(tmp_path)
    found = with_running_dev(Settings(_env_file=None, data_dir=tmp_path))
    assert (found.database_url, found.base_url, found.dev_password) == (
        note.database_url,
        note.api_url,
        "from-dev",
    )
    mine = Settings(_env_file=None, data_dir=tmp_path, database_url="postgresql://mine/l2c")
    assert with_running_dev(mine).database_url == "postgresql://mine/l2c"


def test_the_banner_url_is_one_psql_takes():
    assert psql_url("postgresql+psycopg2://postgres@127.0.0.1:5433/l2c") == (
        "postgresql://postgres@127.0.0.1:5433/l2c"
    )
