"""The UI's navigation: which pages each role sees in the header.

A page module adds its own entry where it is defined, so no module lists every page:

    nav_entry("/ui/leads/new", "New lead", roles=SELLERS, order=15)

`roles=None` shows the entry to everyone signed in. Entries are shown by `order`, then
in the order they were added. The menu only offers a page: the page's command still checks
the role (domain/access.py), so an entry here grants nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.access import Action, can
from domain.users import Actor, Role

SELLERS = frozenset({Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN})
MANAGERS = frozenset({Role.SALES_MANAGER, Role.ADMIN})
MONEY = frozenset({Role.FINANCE, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class NavEntry:
    href: str
    label: str
    roles: frozenset[Role] | None = None  # None: every signed-in user
    order: int = 50
    action: Action | None = None  # shown only when domain.access allows it (with `roles`)

    def shown_to(self, user: Actor) -> bool:
        if self.roles is not None and user.role not in self.roles:
            return False
        return self.action is None or can(user, self.action)


NAV: list[NavEntry] = []


def nav_entry(
    href: str,
    label: str,
    roles: Iterable[Role] | None = None,
    order: int = 50,
    action: Action | None = None,
) -> None:
    """Add a page to the header (once per href: a module imported twice adds nothing)."""
    if any(entry.href == href for entry in NAV):
        return
    NAV.append(NavEntry(href, label, None if roles is None else frozenset(roles), order, action))


def nav_for(user: Actor) -> list[tuple[str, str]]:
    """The pages this user's role may open, in menu order: (href, label)."""
    shown = [entry for entry in NAV if entry.shown_to(user)]
    return [(e.href, e.label) for e in sorted(shown, key=lambda e: e.order)]


nav_entry("/ui/board", "Pipeline", order=10)
nav_entry("/ui/inbox", "Inbox", order=20)
nav_entry("/ui/invoices", "Invoices", order=40)
nav_entry("/ui/dashboard", "Dashboard", order=60, action=Action.VIEW_KPIS)
nav_entry("/ui/email-templates", "E-mail templates", roles=ADMINS, order=90)
