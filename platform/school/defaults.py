"""What a new school starts with (installed when its schema is provisioned, while bound)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def install_defaults(session: Session, locale: str) -> None:
    """Standard grade scales and assessment kinds (named in the school's language ``locale``);
    the school may change them afterwards."""
    from school.curriculum.services import install_default_scales_and_kinds

    install_default_scales_and_kinds(session, locale)
