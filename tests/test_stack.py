"""`l2c dev` starts only what is not configured."""

from __future__ import annotations

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
