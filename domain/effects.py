"""What one command on a deal changes, as data: the workflow decides it, one transaction
writes it (adapters/deal_commits.py), and each effect is keyed so writing it twice is a no-op.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .approval import ApprovalStep
from .billing import InvoiceDraft
from .change_orders import ChangeOrder
from .contract import Contract, Signature
from .deal import DealInput, OpenedDeal
from .invoices import Invoice
from .leads import LeadScore
from .messages import Attachment, EmailRequest
from .orders import Delivery, Order
from .quotes import Quote, QuoteStatus
from .stages import DealStage
from .subscriptions import Subscription


class _Effect(BaseModel):
    model_config = ConfigDict(frozen=True)
    actor: str = "system"


class OpenDeal(_Effect):
    """Record the lead as a deal, matched to its customer; nothing more if the contact has an
    open deal already (then the rest of the commit is not written either)."""

    kind: Literal["open"] = "open"
    deal: DealInput
    score: LeadScore
    workflow_id: str


class EnterStage(_Effect):
    kind: Literal["stage"] = "stage"
    seq: int
    stage: DealStage
    note: str | None = None


class RecordEvent(_Effect):
    kind: Literal["event"] = "event"
    key: str
    action: str
    data: dict[str, Any] = Field(default_factory=dict)


class SaveQuote(_Effect):
    kind: Literal["quote"] = "quote"
    quote: Quote
    # The deal's amount (its pipeline value) becomes the quote's; a change order's quote
    # counts only once the change is signed (SaveChangeOrder).
    pipeline: bool = True


class SetQuoteStatus(_Effect):
    kind: Literal["quote_status"] = "quote_status"
    version: int
    status: QuoteStatus
    reason: str | None = None
    link_sent_to: str | None = None  # a customer's answer: where their link was sent


class ProposeQuote(_Effect):
    """The approved quote goes to the customer, valid from now (approval took its time)."""

    kind: Literal["quote_proposed"] = "quote_proposed"
    version: int
    valid_until: datetime


class SaveChangeOrder(_Effect):
    """A change order as it stands (requested, approved, signed or rejected)."""

    kind: Literal["change_order"] = "change_order"
    change_order: ChangeOrder
    action: str  # the audit event: change_order.requested, .signed, ...


class UpdateOrder(_Effect):
    """The order under a signed change order."""

    kind: Literal["order_changed"] = "order_changed"
    order: Order
    change_order: int


class DraftContract(_Effect):
    kind: Literal["contract"] = "contract"
    contract: Contract
    steps: list[ApprovalStep]


class SaveApprovalStep(_Effect):
    kind: Literal["approval_step"] = "approval_step"
    contract_version: int
    step: ApprovalStep
    action: str  # approval.requested | escalated | approved | rejected | withdrawn


class AskApproval(_Effect):
    """A step asked on its own, after the contract's (finance, for a cancellation)."""

    kind: Literal["ask_approval"] = "ask_approval"
    contract_version: int
    step: ApprovalStep
    action: str


class RecordSignature(_Effect):
    kind: Literal["signature"] = "signature"
    version: int
    signature: Signature
    link_sent_to: str | None = None  # where the link it was signed through was sent


class CreateOrder(_Effect):
    kind: Literal["order"] = "order"
    order: Order


class RecordDelivery(_Effect):
    kind: Literal["delivery"] = "delivery"
    delivery: Delivery
    order: Order  # as it stands after the delivery


class ChangeOwner(_Effect):
    kind: Literal["owner"] = "owner"
    owner: str
    reason: str | None = None


class SetBlocked(_Effect):
    kind: Literal["blocked"] = "blocked"
    reason: str | None  # None: resumed
    key: str


class CancelOrder(_Effect):
    kind: Literal["order_cancelled"] = "order_cancelled"


class IssueInvoice(_Effect):
    kind: Literal["invoice"] = "invoice"
    draft: InvoiceDraft
    day: timedelta
    email: EmailRequest | None = None  # sent with the invoice once it has its number

    def email_for(self, invoice: Invoice) -> EmailRequest | None:
        if self.email is None:
            return None
        return self.email.model_copy(
            update={
                "key": f"{self.email.key}:{invoice.number}",
                "attachments": [Attachment(kind="invoice", number=invoice.number)],
                "context": {**self.email.context, "invoice": invoice.model_dump(mode="json")},
            }
        )


class RecordSubscription(_Effect):
    """A subscription's new state (activated, changed, cancelled at term end, renewed),
    with its audit event `action`."""

    kind: Literal["subscription"] = "subscription"
    state: Subscription
    seq: int  # the state's place in the subscription's history, from 1
    action: str
    data: dict[str, Any] = Field(default_factory=dict)


class RecognizeRevenue(_Effect):
    kind: Literal["revenue"] = "revenue"
    key: str
    memo: str
    amount: Decimal
    currency: str


class CloseCancelled(_Effect):
    """Revenue paid for but never to be delivered becomes owed back to the customer."""

    kind: Literal["close_cancelled"] = "close_cancelled"


class CloseWrittenOff(_Effect):
    """A written-off deal with nothing left to collect: what is still deferred (paid for,
    never to be delivered) is owed back to the customer."""

    kind: Literal["close_written_off"] = "close_written_off"


Effect = Annotated[
    OpenDeal
    | EnterStage
    | RecordEvent
    | SaveQuote
    | SetQuoteStatus
    | ProposeQuote
    | SaveChangeOrder
    | UpdateOrder
    | DraftContract
    | SaveApprovalStep
    | AskApproval
    | RecordSignature
    | CreateOrder
    | RecordDelivery
    | ChangeOwner
    | SetBlocked
    | CancelOrder
    | IssueInvoice
    | RecordSubscription
    | RecognizeRevenue
    | CloseCancelled
    | CloseWrittenOff,
    Field(discriminator="kind"),
]


class DealCommit(BaseModel):
    """Everything one command changes, written in one transaction, in this order."""

    model_config = ConfigDict(frozen=True)
    deal_id: str
    at: datetime
    effects: list[Effect] = Field(default_factory=list)
    emails: list[EmailRequest] = Field(default_factory=list)


class Committed(BaseModel):
    """What the transaction made that the workflow needs: the recorded deal, the invoices
    with their numbers."""

    opened: OpenedDeal | None = None
    invoices: list[Invoice] = Field(default_factory=list)
