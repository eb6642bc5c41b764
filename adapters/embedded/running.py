"""The note `l2c dev` leaves in its data folder while it runs (`.l2c/dev.json`): where its
servers are, so `l2c kpis`, `l2c demo` and friends in a second terminal find them alone."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from pydantic import BaseModel, ValidationError

RECORD = "dev.json"


class RunningDev(BaseModel):
    """The servers of one running `l2c dev`; gone when it stops (or its process died)."""

    pid: int
    api_url: str
    database_url: str
    temporal_address: str
    temporal_ui: str
    maildir: str | None = None
    dev_password: str

    def write(self, data_dir: Path) -> Path:
        """Write atomically and readable by this user only (it holds the database URL)."""
        path = data_dir / RECORD
        draft = path.with_suffix(".tmp")
        draft.write_text(self.model_dump_json(indent=2))
        draft.chmod(0o600)
        draft.replace(path)
        return path

    @classmethod
    def read(cls, data_dir: Path) -> RunningDev | None:
        """The record in `data_dir`, if its `l2c dev` is still alive."""
        try:
            found = cls.model_validate_json((data_dir / RECORD).read_text())
        except (OSError, ValidationError):
            return None
        return found if _alive(found.pid) else None

    @staticmethod
    def remove(data_dir: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            (data_dir / RECORD).unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def psql_url(database_url: str) -> str:
    """The URL as psql takes it: SQLAlchemy's `+driver` part dropped."""
    scheme, sep, rest = database_url.partition("://")
    return scheme.split("+", 1)[0] + sep + rest
