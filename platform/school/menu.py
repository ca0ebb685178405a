"""The school home's menu: each part of the school registers its pages here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from accounts.models import Role


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: object  # a lazy_gettext string
    roles: frozenset[Role]
    order: int = 100


MENU: list[MenuItem] = []


def menu_item(endpoint: str, label: object, roles: Iterable[Role], order: int = 100) -> None:
    """Show ``endpoint`` on the school home to accounts holding one of ``roles``."""
    MENU.append(MenuItem(endpoint, label, frozenset(roles), order))


def items_for(roles: set[Role]) -> list[MenuItem]:
    return sorted((i for i in MENU if i.roles & roles), key=lambda i: (i.order, str(i.label)))
