"""What is taught and how it is assessed: subjects, grade scales, assessment kinds."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, SmallInteger, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dienynas.database import SchoolModel


def translated_name(name: str, translations: dict[str, str] | None, locale: str) -> str:
    """A subject's or assessment kind's name in ``locale``: its translation, else the name the
    school gave it (in the school's language)."""
    return (translations or {}).get(locale) or name


class GradeScale(SchoolModel):
    """A way of grading: the 10-point scale 1–10, pass/fail ("įskaityta/neįskaityta"), or the
    5-point scale 2–5. Numeric scales use min/max; pass/fail has none."""

    __tablename__ = "grade_scales"
    __table_args__ = (
        CheckConstraint("kind IN ('numeric', 'pass_fail')", name="kind"),
        CheckConstraint(
            "(kind = 'pass_fail' AND min_value IS NULL AND max_value IS NULL) OR "
            "(kind = 'numeric' AND min_value IS NOT NULL AND max_value > min_value)",
            name="range",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # ten_point, pass_fail, five_point
    kind: Mapped[str] = mapped_column(String(12))
    min_value: Mapped[int | None] = mapped_column(SmallInteger)
    max_value: Mapped[int | None] = mapped_column(SmallInteger)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Subject(SchoolModel):
    """A subject, named in the school's language, optionally in the other three."""

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # e.g. "MAT", "LT-K"
    name: Mapped[str] = mapped_column(String(120))
    #: {"lt": "Matematika", "ru": "Математика", ...}: shown to readers of those languages.
    name_translations: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    scale_id: Mapped[int] = mapped_column(ForeignKey(GradeScale.id))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    scale: Mapped[GradeScale] = relationship(lazy="joined")

    def name_in(self, locale: str) -> str:
        return translated_name(self.name, self.name_translations, locale)


class AssessmentKind(SchoolModel):
    """What a grade is for: test, homework, oral answer, project, … (configurable per school)."""

    __tablename__ = "assessment_kinds"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_translations: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name_in(self, locale: str) -> str:
        return translated_name(self.name, self.name_translations, locale)
