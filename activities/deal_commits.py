"""The activity that writes one command's effects on a deal in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from domain.effects import Committed, DealCommit

from .errors import refusals_are_final

if TYPE_CHECKING:
    from adapters.deal_commits import DealCommits


class DealCommitActivities:
    def __init__(self, commits: DealCommits) -> None:
        self.commits = commits

    @activity.defn(name="commit_deal")
    def commit_deal(self, commit: DealCommit) -> Committed:
        with refusals_are_final():
            return self.commits.commit(commit)
