"""The transactional outbox: e-mails are written in the transaction of the command that
causes them, and a relay in the worker sends what was committed.

No command waits for SMTP, and a mail exists if and only if its command happened. Sending is
at-least-once: a relay killed between the SMTP handover and marking the row sent sends it
again, with the same Message-ID (mail clients show it once).
"""

from __future__ import annotations

import logging
import smtplib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError

from adapters.storage.audit import append_event
from adapters.storage.tables import customers, deals, emails
from domain.messages import EmailRequest, NoRecipients

from .mailer import Mailer, message_id

log = logging.getLogger(__name__)

RETRY_FIRST = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=5)


class Outbox:
    """Adds e-mails to the outbox inside the caller's transaction (once per key)."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self.wake = threading.Event()  # set after a commit that added mail: relay, go

    def add(self, conn: Connection, request: EmailRequest, at: datetime) -> bool:
        """Render and store `request` unless its key is known; False if nobody can get it."""
        if conn.execute(select(emails.c.key).where(emails.c.key == request.key)).first():
            return True
        request = self._with_company(conn, request)
        try:
            recipients = self.mailer.recipients(request)
        except NoRecipients as err:  # a role with nobody active: logged, never fatal
            log.warning("%s", err.message)
            return False
        subject, body = self.mailer.render(request)
        conn.execute(
            insert(emails)
            .values(
                key=request.key,
                deal_id=request.deal_id,
                kind=request.template,
                recipients=recipients,
                subject=subject,
                body=body,
                attachments=[a.model_dump(mode="json") for a in request.attachments],
                message_id=message_id(request.key),
                status="pending",
                created_at=at,
            )
            .on_conflict_do_nothing()
        )
        return True

    @staticmethod
    def _with_company(conn: Connection, request: EmailRequest) -> EmailRequest:
        # The customer a lead was matched to is known only in the transaction that matched it.
        if request.deal_id is None or "company" in request.context:
            return request
        name = conn.execute(
            select(customers.c.name)
            .join(deals, deals.c.customer_id == customers.c.customer_id)
            .where(deals.c.deal_id == request.deal_id)
        ).scalar()
        if name is None:
            return request
        return request.model_copy(update={"context": {**request.context, "company": name}})


class OutboxRelay:
    """Sends pending outbox rows, one row per transaction, oldest first; many relays may
    run (one per worker): a row is locked by the one sending it."""

    def __init__(self, engine: Engine, mailer: Mailer, wake: threading.Event) -> None:
        self.engine, self.mailer, self.wake = engine, mailer, wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, poll_seconds: float = 1.0) -> OutboxRelay:
        self._thread = threading.Thread(
            target=self._run, args=(poll_seconds,), name="outbox-relay", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(35)

    def _run(self, poll_seconds: float) -> None:
        while not self._stop.is_set():
            try:
                while not self._stop.is_set() and self.send_next():
                    pass
            except OperationalError as err:  # the database is away: try again next round
                log.warning("outbox relay: database unavailable (%s)", str(err).splitlines()[0])
            except Exception:
                log.exception("outbox relay")
            self.wake.wait(poll_seconds)
            self.wake.clear()

    def send_next(self) -> bool:
        """Send the oldest due row; False when none is due."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(emails)
                .where(emails.c.status == "pending")
                .where((emails.c.next_attempt_at.is_(None)) | (emails.c.next_attempt_at <= now))
                .order_by(emails.c.email_id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return False
            try:
                self.mailer.deliver(row)
            except (ValueError, TypeError, UnicodeError, smtplib.SMTPRecipientsRefused) as err:
                self._give_up(conn, row, err)  # it can never be sent: say so, once
                return True
            except (smtplib.SMTPException, OSError) as err:
                delay = min(RETRY_FIRST * 2 ** min(row.attempts, 10), RETRY_MAX)
                conn.execute(
                    update(emails)
                    .where(emails.c.email_id == row.email_id)
                    .values(
                        attempts=emails.c.attempts + 1,
                        next_attempt_at=now + delay,
                        last_error=str(err)[:500],
                    )
                )
                log.warning("e-mail %s not sent (%s); again in %s", row.key, err, delay)
                return True
            conn.execute(
                update(emails)
                .where(emails.c.email_id == row.email_id)
                .values(status="sent", sent_at=datetime.now(UTC), attempts=emails.c.attempts + 1)
            )
        return True

    @staticmethod
    def _give_up(conn: Connection, row: Any, err: Exception) -> None:
        """Mark the row failed and put it on its deal's record, where the owner sees it."""
        log.error("e-mail %s can never be sent: %s", row.key, err)
        conn.execute(
            update(emails)
            .where(emails.c.email_id == row.email_id)
            .values(status="failed", attempts=emails.c.attempts + 1, last_error=str(err)[:500])
        )
        if row.deal_id is not None:
            append_event(
                conn,
                row.deal_id,
                f"email.failed:{row.key}",
                datetime.now(UTC),
                "system",
                "email.failed",
                {"kind": row.kind, "recipients": row.recipients, "error": str(err)[:500]},
            )
