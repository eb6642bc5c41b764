"""The search attributes ops use to find deals in the Temporal UI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

DEAL_STAGE = SearchAttributeKey.for_keyword("DealStage")
DEAL_OWNER = SearchAttributeKey.for_keyword("DealOwner")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
DEAL_AMOUNT = SearchAttributeKey.for_float("DealAmount")
LEAD_SOURCE = SearchAttributeKey.for_keyword("LeadSource")
LEAD_SCORE = SearchAttributeKey.for_int("LeadScore")

ALL = (DEAL_STAGE, DEAL_OWNER, CUSTOMER_ID, DEAL_AMOUNT, LEAD_SOURCE, LEAD_SCORE)

# As `temporal server start-dev --search-attribute NAME=TYPE` wants them.
FOR_DEV_SERVER = {
    DEAL_STAGE.name: "Keyword",
    DEAL_OWNER.name: "Keyword",
    CUSTOMER_ID.name: "Keyword",
    DEAL_AMOUNT.name: "Double",
    LEAD_SOURCE.name: "Keyword",
    LEAD_SCORE.name: "Int",
}
