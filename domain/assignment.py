"""Who owns a new lead: the rep of its country's territory, else the next rep in turn."""

from __future__ import annotations

from .errors import InvalidInput


class NoSeller(InvalidInput):
    """No active sales rep to give the lead to."""


def choose_owner(
    reps: list[str], territories: dict[str, str], country: str | None, turn: int
) -> tuple[str, bool]:
    """The owner, and whether the round-robin turn was used (and must advance).

    `reps` are the active reps in a fixed order; `territories` maps a country to its rep.
    """
    if country is not None and territories.get(country) in reps:
        return territories[country], False
    if not reps:
        raise NoSeller("there is no active sales rep to assign the lead to", field=("owner",))
    return reps[turn % len(reps)], True
