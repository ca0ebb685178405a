"""A student's grades follow them into the group where they now learn the subject.

A student moved to another class leaves the old class's groups and joins the new class's; one
moved from one half of a class to the other leaves one group of a subject for another. Grades
and term grades stay with the group they were given in, and a journal lists only the group's
members, so without this the term's grades would vanish from every journal and the new
group's term grade would be suggested from nothing (the diary would list the subject twice).

When students join a group, their grades and term grades of the group's school year given in
groups of the same subject they are no longer members of move into it: the grades with their
day, term, kind and comment (no longer tied to a lesson of the other group: the journal shows
them by date), the term and year grades unless the group holds one for that term already.
Their values do not change, so no grade history entry is written. Attendance stays with the
lessons it was taken in.

A student claimed from the pool may have carried grades (``transfers.models.CarriedRecord``):
those of a subject the class learns in part groups (an English half) had no group to go to at
the claim. Joining such a group, they become its grades (``_MAP_CARRIED``).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import text
from sqlalchemy.orm import Session

from gradebook.grades.models import Grade, TermGrade
from school.classes.models import Group

#: The student's groups of the subject and year that they have left.
_LEFT_GROUPS = """
    SELECT old.id FROM groups old
    WHERE old.subject_id = :subject AND old.year_id = :year AND old.id <> :group
      AND NOT EXISTS (SELECT 1 FROM group_students m
                      WHERE m.group_id = old.id AND m.student_id = {student})
"""

_MOVE_GRADES = text(
    f"""
    UPDATE grades g SET group_id = :group, lesson_id = NULL
    WHERE g.student_id = ANY(:students)
      AND g.group_id IN ({_LEFT_GROUPS.format(student="g.student_id")})
    """
)

_MOVE_TERM_GRADES = text(
    f"""
    WITH movable AS (
        SELECT DISTINCT ON (t.student_id, t.term_id) t.id
        FROM term_grades t
        WHERE t.student_id = ANY(:students)
          AND t.group_id IN ({_LEFT_GROUPS.format(student="t.student_id")})
          AND NOT EXISTS (SELECT 1 FROM term_grades x
                          WHERE x.student_id = t.student_id AND x.group_id = :group
                            AND x.year_id = t.year_id
                            AND x.term_id IS NOT DISTINCT FROM t.term_id)
        ORDER BY t.student_id, t.term_id, t.id DESC
    )
    UPDATE term_grades SET group_id = :group WHERE id IN (SELECT id FROM movable)
    """
)


#: A transferred student's carried grades (transfers: those that had no group of their
#: subject when the student was claimed) of the group's subject (by code or name, on the same
#: scale, as the claim maps them) and of a day inside a term of the group's year become grades
#: of the group, given where they were given, entered by whoever claimed the student; the
#: carried records are deleted in the same statement, and the grades' history records them.
_MAP_CARRIED = text(
    """
    WITH subject AS (
        SELECT s.code, s.name, sc.code AS scale FROM subjects s
        JOIN grade_scales sc ON sc.id = s.scale_id WHERE s.id = :subject
    ),
    taken AS (
        DELETE FROM carried_records c
        USING public.transfer_pool p, terms t, subject
        WHERE c.kind = 'grade' AND c.student_id = ANY(:students)
          AND p.id = c.pool_id AND p.claimed_by IS NOT NULL
          AND (c.subject_code = subject.code OR lower(c.subject_name) = lower(subject.name))
          AND EXISTS (SELECT 1 FROM jsonb_array_elements(p.record->'subjects') x
                      WHERE x->>'code' = c.subject_code AND x->'scale'->>'code' = subject.scale)
          AND t.year_id = :year AND c.on_day BETWEEN t.starts_on AND t.ends_on
        RETURNING c.student_id, c.on_day, t.id AS term_id, c.value, c.details,
                  c.from_school_name, p.claimed_by
    ),
    made AS (
        INSERT INTO grades (student_id, group_id, on_day, term_id, value, kind_id, comment,
                            origin, created_by)
        SELECT taken.student_id, :group, taken.on_day, taken.term_id, taken.value, k.id,
               taken.details->>'comment',
               coalesce(taken.details->>'origin', taken.from_school_name), taken.claimed_by
        FROM taken LEFT JOIN assessment_kinds k ON k.code = taken.details->>'kind_code'
        RETURNING id, student_id, group_id, on_day, value, kind_id, comment, created_by
    )
    INSERT INTO grade_changes (grade_id, student_id, group_id, on_day, action, new_value,
                               new_kind_id, new_comment, changed_by, after_lock)
    SELECT id, student_id, group_id, on_day, 'create', value, kind_id, comment, created_by,
           false
    FROM made
    """
)


def follow_into_group(session: Session, group: Group, student_ids: Collection[int]) -> None:
    """Move the grades and term grades of ``student_ids`` (members of ``group`` now) from the
    groups of the same subject and year they have left into ``group``, and make their carried
    grades of its subject grades of it (three statements)."""
    if not student_ids:
        return
    session.flush()  # the memberships just added or removed must be seen
    values = {
        "group": group.id, "subject": group.subject_id, "year": group.year_id,
        "students": list(student_ids),
    }  # fmt: skip
    session.execute(_MOVE_GRADES, values)
    session.execute(_MOVE_TERM_GRADES, values)
    session.execute(_MAP_CARRIED, values)
    for held in list(session.identity_map.values()):  # loaded before the move: reload
        if isinstance(held, Grade | TermGrade):
            session.expire(
                held, ["group_id", "lesson_id"] if isinstance(held, Grade) else ["group_id"]
            )
