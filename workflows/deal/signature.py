"""AWAITING_SIGNATURE: the approved contract (versioned, hashed) goes to the customer, who
signs it through the portal."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.contract import Signature
    from domain.deal import SignCommand
    from domain.errors import Conflict
    from domain.messages import PortalLink
    from domain.quotes import Quote
    from domain.stages import DealStage

from .effects import DealEffects


class Signing:
    def __init__(self, deal: DealEffects) -> None:
        self.deal = deal
        self.command: SignCommand | None = None  # the customer's signature, until applied
        self.quote: Quote | None = None  # the one the contract was drawn from

    async def signed(self, quote: Quote) -> str:
        """Until the customer signs the contract; the signer's name."""
        d = self.deal
        d.enter(DealStage.AWAITING_SIGNATURE)
        contract = d.state.contract
        assert contract is not None
        self.quote = quote
        d.notify(**self.email(f"signature:{contract.version}"))
        await d.until(lambda: self.command is not None)
        cmd, self.command = self.command, None
        assert cmd is not None
        signature = Signature(
            name=cmd.name, signed_at=workflow.now(), ip=cmd.ip, sha256=contract.sha256
        )
        d.add(
            fx.RecordSignature(
                version=contract.version, signature=signature, link_sent_to=cmd.link_sent_to
            )
        )
        d.state.contract = contract.model_copy(update={"signature": signature})
        return cmd.name

    def email(self, key: str) -> dict[str, Any]:
        """The contract to the contact, with the link to sign it."""
        contract, quote = self.deal.state.contract, self.quote
        assert contract is not None and quote is not None
        return {
            "template": "signature_requested",
            "key": key,
            "to": [self.deal.deal.lead.email],
            "portal": PortalLink(action="contract", version=contract.version),
            "total": str(quote.total),
            "currency": quote.currency,
            "sha256": contract.sha256,
        }

    def check(self, cmd: SignCommand) -> None:
        self.deal.require_stage(DealStage.AWAITING_SIGNATURE)
        self.deal.free(self.command, "a signature")
        contract = self.deal.state.contract
        if contract is None or contract.version != cmd.version:
            raise Conflict(f"contract version {cmd.version} is not the one to sign")
