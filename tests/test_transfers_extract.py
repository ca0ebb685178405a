"""The leaving-student extract: the job renders the PDF from the pool record in the leaving
school's language, stores it on the pool row and logs it once however often it runs; the sweep
re-enqueues extracts whose job was lost."""

from __future__ import annotations

import io

import pytest
from babel.dates import format_date
from pypdf import PdfReader
from sqlalchemy import func, select

from dienynas.extensions import db
from dienynas.jobs import queue
from transfers.extract import extract_html
from transfers.models import PoolEntry, TransferLog
from transfers.tasks import render_extract, sweep_extracts
from transfers_helpers import TODAY, Transfer, build_transfer, leave


@pytest.fixture(autouse=True)
def fixed_today(school_day):
    school_day(TODAY)


@pytest.fixture
def transfer(classroom, world) -> Transfer:
    return build_transfer(classroom, world)


def extract_jobs() -> list:
    return [j for j in queue().jobs if j.func_name.endswith("render_extract")]


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def stored(pool_id: int) -> PoolEntry:
    entry = db.session.get(PoolEntry, pool_id)
    db.session.refresh(entry)
    return entry


def ready_logs(pool_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(TransferLog)
        .where(TransferLog.pool_id == pool_id, TransferLog.action == "extract_ready")
    )


def test_the_job_renders_the_extract_in_the_leaving_schools_language(transfer):
    pool_id = leave(transfer)
    assert render_extract(pool_id) is True
    entry = stored(pool_id)
    assert entry.extract_locale == "lt" and entry.extract_ready_at is not None
    text = pdf_text(entry.extract_pdf)
    assert "Agnė Ambrazaitė" in text
    assert "Matematika" in text and "9" in text  # the subject and its grade
    assert format_date(TODAY, "long", locale="lt") in text  # "2026 m. rugsėjo 15 d."
    assert "Irena Globėja" in text  # the guardian
    assert "Moved house" in text
    # where the student went: the school of this municipality the leaving school named
    assert "Šios savivaldybės mokykla: Бета гимназия" in text.replace("\n", " ")


def test_the_extract_follows_the_school_it_is_rendered_for(transfer, world):
    """Dates come from Babel in the school's language (here a Russian school's)."""
    pool_id = leave(transfer)
    html = extract_html(stored(pool_id), world.school_b)
    assert format_date(TODAY, "long", locale="ru") in html and 'lang="ru"' in html


def test_running_the_job_twice_does_no_harm(transfer):
    pool_id = leave(transfer)
    assert render_extract(pool_id) is True
    first = stored(pool_id)
    pdf, ready_at = first.extract_pdf, first.extract_ready_at
    assert render_extract(pool_id) is False
    again = stored(pool_id)
    assert (again.extract_pdf, again.extract_ready_at) == (pdf, ready_at)
    assert ready_logs(pool_id) == 1


def test_an_unknown_entry_is_nothing_to_do(transfer):
    assert render_extract(987_654) is False


def test_the_sweep_enqueues_extracts_whose_job_was_lost(transfer):
    pool_id = leave(transfer)  # left without enqueuing (as when Redis was down)
    sweep_extracts()
    assert [j.args for j in extract_jobs()] == [(pool_id,)]
    sweep_extracts()  # the waiting job is not enqueued twice
    assert len(extract_jobs()) == 1
    queue().empty()
    render_extract(pool_id)
    sweep_extracts()
    assert extract_jobs() == []
