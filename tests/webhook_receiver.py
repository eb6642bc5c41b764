"""A webhook receiver for tests: a tiny HTTP server in a thread that records what it gets
and answers each event's first requests with the status codes it was told."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from adapters.embedded import free_port


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """`answers`: the status codes of each event's first requests (then 200)."""

    def __init__(self, answers: tuple[int, ...] = ()) -> None:
        self.answers = answers
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.record(Received(dict(self.headers.items()), body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def record(self, received: Received) -> int:
        with self._lock:
            self.received.append(received)
            seen = sum(1 for r in self.received if r.event["id"] == received.event["id"])
        return self.answers[seen - 1] if seen <= len(self.answers) else 200

    def events(self, deal_id: str, kind: str) -> list[Received]:
        with self._lock:
            return [
                r
                for r in self.received
                if r.event["deal_id"] == deal_id and r.event["type"] == kind
            ]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
