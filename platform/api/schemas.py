"""Marshmallow schemas of the API's answers; ``/api/v1/openapi.json`` is built from them."""

from __future__ import annotations

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    error = fields.String(
        metadata={
            "description": "unauthorized, forbidden, not_found, bad_request, method_not_allowed "
            "or server_error"
        }
    )
    message = fields.String(metadata={"description": "In the account's language."})


class HomeworkFileSchema(Schema):
    id = fields.Integer()
    file_name = fields.String()
    size = fields.Integer(metadata={"description": "Bytes."})


class HomeworkSchema(Schema):
    text = fields.String()
    due_on = fields.Date(allow_none=True)
    files = fields.List(fields.Nested(HomeworkFileSchema))


class GradeSchema(Schema):
    id = fields.Integer()
    on_day = fields.Date()
    subject = fields.String()
    value = fields.String(metadata={"description": "As stored: 1–10, or passed / failed."})
    label = fields.String(metadata={"description": "As shown, in the account's language."})
    kind = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    lesson_id = fields.Integer(allow_none=True)
    origin = fields.String(
        allow_none=True,
        metadata={"description": "The school where it was given, when not this one "
                                 "(a hospital school); null for the school's own grades."},
    )  # fmt: skip


class AttendanceSchema(Schema):
    mark = fields.String(metadata={"enum": ["absent", "late", "left_early"]})
    excused = fields.Boolean()


class LessonSchema(Schema):
    id = fields.Integer()
    lesson_no = fields.Integer()
    starts_at = fields.Time(allow_none=True)
    ends_at = fields.Time(allow_none=True)
    subject = fields.String()
    topic = fields.String(allow_none=True)
    homework = fields.Nested(HomeworkSchema, allow_none=True)
    grades = fields.List(fields.Nested(GradeSchema))
    attendance = fields.Nested(AttendanceSchema, allow_none=True)


class SlotSchema(Schema):
    lesson_no = fields.Integer()
    starts_at = fields.Time(allow_none=True)
    ends_at = fields.Time(allow_none=True)
    subject = fields.String()


class DiaryDaySchema(Schema):
    day = fields.Date()
    holiday = fields.String(allow_none=True)
    school_day = fields.Boolean()
    lessons = fields.List(fields.Nested(LessonSchema))
    slots = fields.List(
        fields.Nested(SlotSchema),
        metadata={
            "description": "The timetable's lessons of groups with no lesson entered that day yet."
        },
    )
    other_grades = fields.List(fields.Nested(GradeSchema))


class PlannedTestSchema(Schema):
    on_day = fields.Date()
    lesson_no = fields.Integer(allow_none=True)
    subject = fields.String()
    topic = fields.String()
    kind = fields.String(allow_none=True)


class RemarkSchema(Schema):
    on_day = fields.Date()
    kind = fields.String(metadata={"enum": ["praise", "remark", "reprimand"]})
    subject = fields.String(allow_none=True)
    text = fields.String()


class TermSubjectSchema(Schema):
    subject = fields.String()
    grades_count = fields.Integer()
    mean = fields.Float(allow_none=True)
    mean_text = fields.String(metadata={"description": "The mean in the account's language."})
    term_grade = fields.String(allow_none=True)


class StudentWeekSchema(Schema):
    student_id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String()
    class_name = fields.String(allow_none=True)
    days = fields.List(fields.Nested(DiaryDaySchema))
    tests = fields.List(fields.Nested(PlannedTestSchema))
    remarks = fields.List(fields.Nested(RemarkSchema))
    latest_grades = fields.List(fields.Nested(GradeSchema))
    term = fields.String(allow_none=True)
    term_summary = fields.List(fields.Nested(TermSubjectSchema))


class DiaryWeekSchema(Schema):
    monday = fields.Date()
    days = fields.List(fields.Date())
    students = fields.List(fields.Nested(StudentWeekSchema))


class GradesSchema(Schema):
    student_id = fields.Integer()
    date_from = fields.Date(allow_none=True, data_key="from")
    date_to = fields.Date(allow_none=True, data_key="to")
    grades = fields.List(fields.Nested(GradeSchema))


class MeStudentSchema(Schema):
    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String()
    class_name = fields.String(allow_none=True)


class MeSchoolSchema(Schema):
    slug = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    students = fields.List(
        fields.Nested(MeStudentSchema),
        metadata={"description": "Whose diary the account reads as a student or guardian."},
    )


class MeAccountSchema(Schema):
    id = fields.Integer()
    login = fields.String()
    name = fields.String()
    locale = fields.String(allow_none=True)


class MeSchema(Schema):
    account = fields.Nested(MeAccountSchema)
    schools = fields.List(fields.Nested(MeSchoolSchema))
