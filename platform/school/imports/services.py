"""Importing and exporting the school's lists (CSV and XLSX).

Each row goes through the same services the pages use, inside a savepoint, so every rule
(checksums, duplicates, unknown subjects, …) applies and a bad row is reported with its row
number, field and reason. An import is all-or-nothing: when any row is bad, or when only a
preview was asked for, the caller rolls everything back. Rows are matched to what exists (by
personal code, login or code), so importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Account
from dienynas.errors import DienynasError
from dienynas.i18n import joined
from dienynas.spreadsheet import csv_bytes
from tenants.models import School

MAX_ROWS = 20_000
#: Files with more rows run as a background job with a progress bar.
JOB_THRESHOLD = 500


@dataclass
class RowError:
    row: int  # as the administrator sees it in the file: the header is row 1
    field: str
    message: str
    #: the column's header as the file wrote it ("Mokslo metai"); the field when it has none
    column: str


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    valid: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "valid": self.valid,
            "errors": [vars(e) for e in self.errors],
            "committed": self.committed,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


class RowProblem(Exception):
    """Raised by an importer for a row it cannot take (a column the services never see)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Importer:
    """How one kind of list is read and written.

    ``columns`` maps the canonical column name (itself an accepted English header) to the
    other header names accepted for it, by language: the names administrators' files use.
    ``values`` lists, for a coded column, its codes and what each means (shown on the page).
    ``apply_row(session, school, actor, row)`` creates or updates one row, acting as ``actor``
    (permissions are the services' own), and returns "created", "updated" or "unchanged"; it
    raises DienynasError (with ``field``) or RowProblem for a bad row.
    ``export_rows`` yields the current list in the same columns.
    """

    kind: str
    columns: dict[str, dict[str, tuple[str, ...]]]
    required: tuple[str, ...]
    apply_row: Callable[[Session, School, Account, dict[str, str]], str]
    export_rows: Callable[[Session, School], Iterable[dict[str, Any]]]
    #: service field name → column name, when they differ
    field_columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass
class ColumnHelp:
    """One column of a list as the import page explains it."""

    name: str
    names: tuple[str, ...]  # the headers accepted in the school's language
    english: tuple[str, ...]
    required: bool
    values: Mapping[str, Any]


def column_help(importer: Importer, locale: str) -> list[ColumnHelp]:
    return [
        ColumnHelp(
            name=column,
            names=names.get(locale, ()) if locale != "en" else (),
            english=(column, *names.get("en", ())),
            required=column in importer.required,
            values=importer.values.get(column, {}),
        )
        for column, names in importer.columns.items()
    ]


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


def importer_for(kind: str) -> Importer:
    from school.imports import kinds  # noqa: F401  (registers the importers)

    if kind not in IMPORTERS:
        raise DienynasError(
            _("Unknown list “%(kind)s”. Lists: %(kinds)s.", kind=kind, kinds=joined(KINDS))
        )
    return IMPORTERS[kind]


KINDS = ("students", "guardians", "staff", "subjects", "classes")


# --- reading files ---------------------------------------------------------------------------


def _normalise_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    return " ".join(text.replace("_", " ").split())


def read_table(filename: str, content: bytes) -> list[dict[str, str]]:
    """The rows of a CSV (UTF-8, comma or semicolon) or XLSX file (first sheet), as dicts
    keyed by the header row as written (errors name the columns so); all values as stripped
    strings."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        try:  # read-only workbooks fail while their rows are read, so read them here too
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
            raw_rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        except Exception:  # openpyxl raises many kinds for a file that is not XLSX
            raise DienynasError(_("The file is not a readable XLSX workbook.")) from None
    elif name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DienynasError(
                _("The CSV file must be saved as UTF-8 (in Excel: “CSV UTF-8”).")
            ) from None
        first_line = text.split("\n", 1)[0]
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        try:
            raw_rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        except csv.Error:
            raise DienynasError(_("The file cannot be read as a CSV table.")) from None
    else:
        raise DienynasError(_("Upload a .csv or .xlsx file."))
    raw_rows = [r for r in raw_rows if any(v.strip() for v in r)]
    if not raw_rows:
        raise DienynasError(_("The file is empty."))
    if len(raw_rows) - 1 > MAX_ROWS:
        raise DienynasError(_("The file has more than %(n)d rows.", n=MAX_ROWS))
    header = [str(h).strip() for h in raw_rows[0]]
    return [
        {header[i]: (row[i].strip() if i < len(row) else "") for i in range(len(header))}
        for row in raw_rows[1:]
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):  # datetime from Excel
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def canonical_rows(
    importer: Importer, rows: list[dict[str, str]]
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Rename the file's headers to the importer's column names, and say which header each
    column had; refuse a file that lacks a required column (nothing can be checked then)."""
    aliases = {
        _normalise_header(alias): column
        for column, names in importer.columns.items()
        for alias in (column, *(n for by_locale in names.values() for n in by_locale))
    }
    headers = list(rows[0]) if rows else []
    mapping = {h: aliases[_normalise_header(h)] for h in headers if _normalise_header(h) in aliases}
    missing = [c for c in importer.required if c not in mapping.values()]
    if missing:
        raise DienynasError(
            _(
                "The file has no column %(columns)s. The first row must name the columns, "
                "e.g. %(example)s.",
                columns=joined(missing),
                example=", ".join(importer.columns),
            )
        )
    rows = [{mapping[h]: v for h, v in row.items() if h in mapping} for row in rows]
    return rows, {column: header for header, column in mapping.items()}


# --- importing -------------------------------------------------------------------------------


def run_import(
    session: Session,
    school: School,
    actor: Principal,
    kind: str,
    filename: str,
    content: bytes,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Read the file and check (and apply) its rows: :func:`import_rows`."""
    return import_rows(
        session, school, actor, kind, read_table(filename, content), progress=progress
    )


def import_rows(
    session: Session,
    school: School,
    actor: Principal,
    kind: str,
    table: list[dict[str, str]],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check (and apply, in the session's transaction) every row of a table ``read_table``
    read. The caller commits only when ``report.errors`` is empty and a commit was asked for;
    otherwise it rolls back."""
    importer = importer_for(kind)
    report = ImportReport(kind=kind)
    rows, headers = canonical_rows(importer, table)
    report.rows = len(rows)
    for index, row in enumerate(rows, start=2):
        savepoint = session.begin_nested()
        try:
            outcome = importer.apply_row(session, school, actor, row)
        except RowProblem as problem:
            savepoint.rollback()
            report.errors.append(
                RowError(
                    index, problem.field, problem.message, headers.get(problem.field, problem.field)
                )
            )
        except DienynasError as exc:
            savepoint.rollback()
            column = importer.field_columns.get(exc.field or "", exc.field or "")
            report.errors.append(RowError(index, column, exc.message, headers.get(column, column)))
        else:
            savepoint.commit()
            report.valid += 1
            setattr(report, outcome, getattr(report, outcome) + 1)
        if progress and (index - 1) % 25 == 0:
            progress(index - 1, len(rows))
    if progress:
        progress(len(rows), len(rows))
    return report


# --- exporting -------------------------------------------------------------------------------


def export_table(session: Session, school: School, kind: str, filename: str) -> bytes:
    importer = importer_for(kind)
    columns = list(importer.columns)
    rows = list(importer.export_rows(session, school))
    if filename.lower().endswith(".xlsx"):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = kind
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c, "") for c in columns])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    if not filename.lower().endswith(".csv"):
        raise DienynasError(_("Export to a .csv or .xlsx file."))
    return csv_bytes(columns, ([row.get(c, "") for c in columns] for row in rows))
