"""The school home's menu: each part of the school registers its pages here, in one of the
sections the home page shows them under (what people use every day first, the set-up last)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from accounts.models import Role

#: section code → its heading on the school home, in the order the home shows them
SECTIONS = {
    "daily": _l("Every day"),
    "people": _l("Classes and people"),
    "setup": _l("School set-up"),
    "admin": _l("Administration"),
}


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: object  # a lazy_gettext string
    roles: frozenset[Role]
    section: str
    order: int = 100


MENU: list[MenuItem] = []


def menu_item(
    endpoint: str, label: object, roles: Iterable[Role], order: int = 100, *, section: str
) -> None:
    """Show ``endpoint`` on the school home, under ``section``, to accounts holding one of
    ``roles``."""
    if section not in SECTIONS:
        raise ValueError(f"unknown menu section {section!r}")
    MENU.append(MenuItem(endpoint, label, frozenset(roles), section, order))


@dataclass(frozen=True)
class MenuSection:
    heading: object
    items: list[MenuItem]


def sections_for(roles: set[Role]) -> list[MenuSection]:
    """The sections with something for ``roles``, each with its items in their order."""
    mine = sorted((i for i in MENU if i.roles & roles), key=lambda i: (i.order, str(i.label)))
    sections = [
        MenuSection(heading, [i for i in mine if i.section == code])
        for code, heading in SECTIONS.items()
    ]
    return [s for s in sections if s.items]
