"""Who may change the school's set-up.

The administrator (role ``admin``) may do everything; the extra rights an administrator grants
to chosen staff (``StaffRight``: may form groups, may edit the timetable) open those parts only.
Views call these before acting; services that change data take the checked account.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Role
from accounts.services import require_role, roles_in_school
from dienynas.errors import PermissionDenied
from school.people.models import Person, StaffRight
from tenants.models import School

#: Roles that may read the whole school's set-up (lists, timetables).
READERS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.TEACHER, Role.CLASS_HEAD,
                     Role.SOCIAL_PEDAGOGUE, Role.HEALTH_SPECIALIST})  # fmt: skip


def require_admin(account: Principal, school: School) -> None:
    require_role(account, school, Role.ADMIN)


def require_reader(account: Principal, school: School) -> None:
    if not roles_in_school(account, school) & READERS:
        raise PermissionDenied(_("Only the school's staff may see this."))


def person_of(session: Session, account: Principal) -> Person | None:
    """The account's person record in the school the session is bound to."""
    return session.scalar(select(Person).where(Person.account_id == account.id))


def has_right(session: Session, account: Principal, school: School, right: str) -> bool:
    if Role.ADMIN in roles_in_school(account, school):
        return True
    person = person_of(session, account)
    if person is None:
        return False
    return (
        session.scalar(
            select(StaffRight.id).where(
                StaffRight.person_id == person.id, StaffRight.right_code == right
            )
        )
        is not None
    )


def require_right(session: Session, account: Principal, school: School, right: str) -> None:
    """The administrator, or staff granted ``right`` ('form_groups', 'edit_timetable')."""
    if not has_right(session, account, school, right):
        raise PermissionDenied(_("You do not have the right to do this in this school."))
