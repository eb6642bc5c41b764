"""An SMTP server that accepts every message and keeps it in a Maildir (dev and tests)."""

from __future__ import annotations

import email
import email.policy
import mailbox
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _MaildirHandler:
    def __init__(self, maildir: mailbox.Maildir) -> None:
        self.maildir = maildir

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.maildir.add(message)
        return "250 Message accepted for delivery"


class SmtpSink:
    """Listens on host:port; every message lands in `maildir` (readable with any mail tool)."""

    def __init__(self, maildir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.path = Path(maildir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(self.path, create=True)
        self.host = host
        self.port = port
        self._controller = Controller(_MaildirHandler(self.maildir), hostname=host, port=port)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        box = mailbox.Maildir(self.path, create=False)
        found = []
        for key in sorted(box.keys()):  # Maildir keys start with the delivery time
            with box.get_file(key) as handle:
                raw = handle.read()
            found.append(email.message_from_bytes(raw, policy=email.policy.default))
        return found
