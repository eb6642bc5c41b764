"""The activity that sends an e-mail through the outbox (once per key)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from domain.messages import EmailRequest

from .errors import refusals_are_final

if TYPE_CHECKING:
    from adapters.email.mailer import Mailer


class EmailActivities:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    @activity.defn(name="send_email")
    def send_email(self, request: EmailRequest) -> str:
        with refusals_are_final():
            return self.mailer.send(request)
