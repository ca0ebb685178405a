"""The daily digest and the SMS quiet hours (issue 7): e-mails set to 'digest' wait and go out
once a day at the school's time as one e-mail per recipient in their language; SMS are held
during the quiet hours and sent when they end. Real Redis and a loopback SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from conftest import login, post_form
from dienynas import clock
from dienynas.database import db
from dienynas.errors import PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from dienynas.jobs import PERIODIC
from notifications import services
from notifications import settings as school_settings
from notifications.digests import collect
from notifications.models import NotificationDelivery, NotificationDigest, NotificationSettings
from notifications.tasks import collect_digests, sweep_notifications
from tenants.services import bind_to_school
from test_notifications import RecordingSms, _grade, family, run_jobs, smtp

#: test_notifications' fixtures, used here by name (pytest finds them in this module)
SHARED_FIXTURES = (family, smtp)


def local(day_offset: int, at: time) -> datetime:
    """An instant at local time ``at``, ``day_offset`` days after today (Europe/Vilnius)."""
    day = datetime.now(clock.zone()).date() + timedelta(days=day_offset)
    return datetime.combine(day, at, tzinfo=clock.zone())


def _modes(**chosen: str) -> dict[str, str]:
    form = {f"{k}.{c}": "instant" for k in services.KIND_LABELS for c in ("in_app", "email")}
    form |= {f"{k}.sms": "off" for k in services.KIND_LABELS}
    return form | chosen


def bind(world):
    bind_to_school(db.session, world.school_a)
    return db.session


def test_digest_is_sent_once_a_day_in_the_recipients_language_with_all_items(
    family, smtp, world, monkeypatch
):
    session = family.session
    guardian_id = family.account("guardian").id
    with in_locale("en"):
        services.save_preferences(
            session,
            family.account("guardian"),
            _modes(**{"grade.email": "digest"}),
            services.KIND_LABELS,
        )
    _grade(family, value="9")
    _grade(family, value="4")
    session.commit()
    run_jobs()
    # the others got their e-mails at once; the Polish guardian's wait for the digest
    assert len(smtp.to("olga@example.lt")) == 2 and smtp.to("irena@example.lt") == []
    session = bind(world)
    waiting = session.scalars(
        select(NotificationDelivery).where(
            NotificationDelivery.account_id == guardian_id, NotificationDelivery.channel == "email"
        )
    ).all()
    assert [d.state for d in waiting] == ["digest", "digest"]
    session.commit()

    monkeypatch.setattr(school_settings, "utc_now", lambda: local(1, time(17, 55)))
    collect_digests()
    run_jobs()
    assert smtp.to("irena@example.lt") == []  # before the school's digest time (18:00)

    monkeypatch.setattr(school_settings, "utc_now", lambda: local(1, time(18, 5)))
    collect_digests()
    run_jobs()
    collect_digests()  # the job again (at-least-once, or the next run the same evening)
    run_jobs()
    (digest_mail,) = smtp.to("irena@example.lt")
    assert digest_mail["Content-Language"] == "pl"
    body = digest_mail.get_body(("plain",)).get_content()
    assert body.count("Matematyka") == 2 and ": 9" in body and ": 4" in body
    assert len(smtp.to("olga@example.lt")) == 2  # nothing more for the instant ones
    session = bind(world)
    (digest,) = session.scalars(select(NotificationDigest)).all()
    assert (digest.account_id, digest.state, digest.locale) == (guardian_id, "sent", "pl")
    assert digest.day == local(1, time(18, 5)).date()
    states = {
        (d.state, d.digest_id)
        for d in session.scalars(
            select(NotificationDelivery).where(NotificationDelivery.account_id == guardian_id)
        )
        if d.channel == "email"
    }
    assert states == {("sent", digest.id)}
    assert "notifications.tasks.collect_digests" in {p.func for p in PERIODIC}


def test_items_after_the_digest_time_wait_for_the_next_day(family, smtp, world, monkeypatch):
    session = family.session
    with in_locale("en"):
        services.save_preferences(
            session,
            family.account("guardian"),
            _modes(**{"grade.email": "digest"}),
            services.KIND_LABELS,
        )
    _grade(family)
    session.commit()
    run_jobs()
    session = bind(world)
    # the school moved its digest to 07:30; today's digest time has passed before the grade
    session.add(
        NotificationSettings(
            id=1, digest_at=time(7, 30), quiet_from=time(21, 0), quiet_until=time(7, 0)
        )
    )
    session.commit()
    yesterday = local(-1, time(7, 35)).astimezone(UTC)
    assert collect(bind(world), yesterday) == []  # the grade came after that day's digest
    ids = collect(bind(world), local(0, time(23, 0)).astimezone(UTC) + timedelta(days=1))
    assert len(ids) == 1
    assert collect(bind(world), local(1, time(23, 30)).astimezone(UTC)) == ids  # the same one


def test_digest_is_offered_for_email_only(family):
    session = family.session
    with in_locale("en"), pytest.raises(ServiceError) as refused:
        services.save_preferences(
            session,
            family.account("guardian"),
            _modes(**{"grade.in_app": "digest"}),
            services.KIND_LABELS,
        )
    assert "Daily digest" not in refused.value.message and refused.value.field == "grade.in_app"
    assert session.scalar(select(func.count()).select_from(NotificationDelivery)) == 0


def test_sms_is_held_during_quiet_hours_and_sent_when_they_end(family, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "test_notifications:RecordingSms")
    monkeypatch.setattr(RecordingSms, "sent", [])
    session = family.session
    guardian = family.account("guardian")
    guardian.phone = "+37060000001"
    with in_locale("en"):
        services.save_preferences(
            session, guardian, _modes(**{"grade.sms": "instant"}), services.KIND_LABELS
        )
    _grade(family)
    session.commit()
    monkeypatch.setattr(school_settings, "utc_now", lambda: local(0, time(22, 30)))
    run_jobs()
    assert RecordingSms.sent == []
    session = bind(world)
    (held,) = session.scalars(
        select(NotificationDelivery).where(NotificationDelivery.channel == "sms")
    ).all()
    assert held.state == "pending" and held.attempts == 0
    assert held.hold_until == local(1, time(7, 0))
    # the night passes: the sweeper sends it once the quiet hours are over
    held.hold_until = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    monkeypatch.setattr(school_settings, "utc_now", lambda: local(1, time(7, 1)))
    sweep_notifications()
    run_jobs()
    sweep_notifications()
    run_jobs()
    (sms,) = RecordingSms.sent
    assert sms[0] == "+37060000001" and "Matematyka" in sms[1]


def test_quiet_hours_across_midnight_and_within_a_day():
    night = NotificationSettings(quiet_from=time(21, 0), quiet_until=time(7, 0))
    assert school_settings.quiet_end(night, local(0, time(20, 59))) is None
    assert school_settings.quiet_end(night, local(0, time(21, 0))) == local(1, time(7, 0))
    assert school_settings.quiet_end(night, local(0, time(3, 0))) == local(0, time(7, 0))
    assert school_settings.quiet_end(night, local(0, time(7, 0))) is None
    lunch = NotificationSettings(quiet_from=time(12, 0), quiet_until=time(13, 0))
    assert school_settings.quiet_end(lunch, local(0, time(12, 30))) == local(0, time(13, 0))
    assert school_settings.quiet_end(lunch, local(0, time(13, 30))) is None
    never = NotificationSettings(quiet_from=time(0, 0), quiet_until=time(0, 0))
    assert school_settings.quiet_end(never, local(0, time(0, 0))) is None


def test_school_settings_page(family, app, client, world):
    family.session.commit()
    login(client, "teacher.a")
    assert client.get("/s/school-a/notifications/school-settings").status_code == 403
    with pytest.raises(PermissionDenied):
        school_settings.save_settings(
            bind(world), family.account("teacher"), world.school_a,
            digest_at=time(7), quiet_from=time(22), quiet_until=time(6),
        )  # fmt: skip
    admin = app.test_client()
    login(admin, "admin.a")
    page = admin.get("/s/school-a/notifications/school-settings").get_data(as_text=True)
    assert 'value="18:00"' in page and 'value="21:00"' in page and 'value="07:00"' in page
    path = "/s/school-a/notifications/school-settings"
    bad = post_form(
        admin, path, {"digest_at": "25:00", "quiet_from": "22:00", "quiet_until": "06:00"}
    )
    assert bad.status_code == 400 and "is not a time" in bad.get_data(as_text=True)
    session = bind(world)
    assert session.get(NotificationSettings, 1) is None
    session.commit()
    ok = post_form(
        admin, path, {"digest_at": "07:30", "quiet_from": "22:00", "quiet_until": "06:00"}
    )
    assert ok.status_code == 302
    saved = bind(world).get(NotificationSettings, 1)
    assert (saved.digest_at, saved.quiet_from, saved.quiet_until) == (
        time(7, 30),
        time(22, 0),
        time(6, 0),
    )
    # the recipients' own settings page offers the digest for e-mail
    own = admin.get("/s/school-a/notifications/settings").get_data(as_text=True)
    assert 'value="digest"' in own
