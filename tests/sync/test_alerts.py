"""Alerts to managers: one notice when a target's condition changes and one when it recovers, never a storm.

Pushes go to the sandbox over HTTP through the real worker; the sweep's alert evaluation is run with a simulated
clock (`now=`) where minutes must pass, and the push attempts made meanwhile are stamped with it.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from backoffice.sync import alerts, push, recovery, targets
from backoffice.sync.http.errors import UpstreamUnavailable
from backoffice.sync.models import Alert, AlertNotice, PushAttempt, SyncStatus, Target, TargetState
from backoffice.sync.targets import mark_failing, pause_target
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.links import link_save, new_link
from contacts.models import Contact
from contacts.services import contact_update
from customers.models import Customer
from customers.services import customer_update
from sandbox import PRIOTICKET_CLIENT_SECRET
from tests import factories
from tests.conftest import TEST_TOKEN

pytestmark = pytest.mark.django_db(transaction=True)

SWEEP_EVERY = timedelta(seconds=30)


@pytest.fixture
def manager():
    return factories.manager_user(email="mona@example.com")


@pytest.fixture
def staff():
    return factories.sales_ops_user(email="sam@example.com")


def subjects(notices) -> list[str]:
    return [notice.subject for notice in notices]


def rename(record, staff, name: str) -> None:
    """A staff edit of any record: a push is queued once it commits."""
    if isinstance(record, Contact):
        contact_update(contact=record, user=staff, data={"first_name": name})
    elif isinstance(record, Customer):
        customer_update(customer=record, user=staff, data={"name": name})
    else:
        catalog_update(catalog=record, user=staff, data={"name": name})


def test_a_refused_token_sends_one_paused_notice_then_one_recovery(pulled, drain, staff, manager, mailoutbox):
    pulled.faults(token="qwoty_rotated")
    first, second = Catalog.objects.all()[:2]
    rename(first, staff, "A")
    rename(second, staff, "B")
    drain()
    assert TargetState.objects.get(target=Target.QWOTY).paused

    recovery.sweep()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["mona@example.com"]  # the Managers group, not Sales Ops
    assert mailoutbox[0].subject.startswith("[Qwoty back office] Qwoty is paused since ")
    assert mailoutbox[0].subject.endswith(", 2 pushes waiting")
    assert "Reason: Qwoty refused our token: Invalid API token (HTTP 401)" in mailoutbox[0].body

    for _ in range(3):  # still refused: nothing more
        recovery.sweep()
    assert len(mailoutbox) == 1

    pulled.faults(token=TEST_TOKEN)
    assert recovery.sweep()["resumed"] == 2
    recovery.sweep()
    recovered = "Qwoty recovered after less than a minute: pushing resumed"
    assert [message.subject for message in mailoutbox][1:] == [f"[Qwoty back office] {recovered}"]
    assert subjects(AlertNotice.objects.order_by("id"))[1:] == [recovered]


def test_refused_prioticket_credentials_are_told_as_prioticket_paused_then_recovered(
    pulled, drain, staff, manager, settings, mailoutbox
):
    settings.PRIOTICKET_CLIENT_SECRET = "not-the-secret"
    contact = Contact.objects.exclude(email=None).order_by("pk").first()
    link_save(link=new_link(contact, "prioticket"), user=staff)
    drain()

    start = timezone.now()
    notices = alerts.evaluate(now=start)
    assert len(notices) == 1
    assert notices[0].subject.startswith("Prioticket is paused since ")
    assert notices[0].subject.endswith(", 1 push waiting")
    assert "resume pushing on the push page" in notices[0].body
    assert alerts.evaluate(now=start + SWEEP_EVERY) == []

    settings.PRIOTICKET_CLIENT_SECRET = PRIOTICKET_CLIENT_SECRET
    targets.resume(Target.PRIOTICKET)
    drain()
    notices = alerts.evaluate(now=start + timedelta(minutes=12))
    assert subjects(notices) == ["Prioticket recovered after 12 min: pushing resumed"]
    assert len(mailoutbox) == 2


def test_a_ten_minute_outage_sends_one_failing_notice_and_one_recovery(
    pulled, task_queue, staff, manager, settings, mailoutbox
):
    """The sandbox down for 10 minutes while staff go on editing, a sweep every 30 s, then 10 minutes more."""
    settings.QWOTY_RETRY_BASE_SECONDS = 3600  # retries wait past the test: each edit is one failed call
    records = [*Customer.objects.order_by("pk"), *Contact.objects.order_by("pk"), *Catalog.objects.order_by("pk")]
    assert len(records) >= 42
    start = timezone.now()
    stamped = PushAttempt.objects.order_by("-id").values_list("id", flat=True).first() or 0
    notices = []
    pulled.faults(outage=True)
    for step in range(40):
        now = start + step * SWEEP_EVERY
        if step == 20:
            pulled.faults(outage=False)
        # Two edits a step: during the outage each is a record of its own (the first stay pending), after it the
        # last two records again and again.
        for record in records[step * 2 : step * 2 + 2] if step < 20 else records[-2:]:
            record.refresh_from_db()
            rename(record, staff, f"Step {step} {record.pk.hex[:6]}")
        task_queue.run_once()
        PushAttempt.objects.filter(id__gt=stamped).update(created_at=now)  # made at the simulated time
        stamped = PushAttempt.objects.order_by("-id").values_list("id", flat=True).first()
        notices += alerts.evaluate(now=now)

    assert PushAttempt.objects.exclude(error_kind="").count() == 40
    assert [(notice.subject, notice.created_at - start) for notice in notices] == [
        # 2 failed calls a step: the 20th in the 10th sweep (4.5 min in)
        ("Qwoty is failing: 20 failed pushes in 10 min", timedelta(minutes=4.5)),
        # the outage ends 10 min in; the last failure came at 9.5 min, and 2 quiet minutes with pushes going through
        ("Qwoty recovered after 7 min: pushes go through again", timedelta(minutes=11.5)),
    ]
    assert [message.subject for message in mailoutbox] == [f"[Qwoty back office] {s}" for s in subjects(notices)]
    assert "Most frequent: Service unavailable (20)" in notices[0].body
    assert "/sync/log/?target=qwoty&outcome=error" in notices[0].body
    assert not Alert.objects.get(key="qwoty:failing").raised


def test_a_target_a_worker_holds_back_is_told_once_held_for_the_set_minutes_then_its_recovery(
    manager, staff, mailoutbox, settings
):
    """With few edits few calls fail (the worker's probes): being held back is what tells managers Qwoty is down."""
    settings.ALERT_HELD_MINUTES = 2
    start = timezone.now()
    rename(factories.CatalogFactory(), staff, "Still waiting")
    mark_failing(Target.QWOTY, UpstreamUnavailable("Service unavailable", status=503))
    since = TargetState.objects.get(target=Target.QWOTY).failing_since
    assert alerts.evaluate(now=start + timedelta(minutes=1.5)) == []
    notices = alerts.evaluate(now=since + timedelta(minutes=2))
    assert subjects(notices) == [f"Qwoty is unavailable since {alerts._clock(since)}, 1 push waiting"]
    assert "has failed every push since" in notices[0].body
    assert ": Service unavailable (HTTP 503)." in notices[0].body
    assert "every 30 s at the longest" in notices[0].body
    assert [message.subject for message in mailoutbox] == [f"[Qwoty back office] {subjects(notices)[0]}"]
    # Held for an hour, no call failing meanwhile: nothing more, and no recovery while it is held.
    assert alerts.evaluate(now=since + timedelta(minutes=60)) == []
    mark_failing(Target.QWOTY, None)
    notices = alerts.evaluate(now=since + timedelta(minutes=61))
    assert subjects(notices) == ["Qwoty recovered after 59 min: pushes go through again"]


def test_records_failed_for_good_are_told_at_most_once_a_window_then_their_recovery(
    pulled, drain, staff, manager, mailoutbox
):
    catalogs = list(Catalog.objects.order_by("name")[:3])
    pulled.faults(script=[{"status": 422, "error": "name is already used"}] * 3)
    for catalog in catalogs:
        rename(catalog, staff, f"{catalog.name} (copy)")
    drain()
    assert Catalog.objects.filter(sync_status=SyncStatus.FAILED).count() == 3

    start = timezone.now()
    notices = alerts.evaluate(now=start)
    assert subjects(notices) == ["Qwoty: 3 records failed to push"]
    for catalog in catalogs:
        assert f"catalog “{catalog.name} (copy)”: name is already used" in notices[0].body
    assert "See them and retry: http://127.0.0.1:8000/sync/#failed-title" in notices[0].body
    assert alerts.evaluate(now=start + SWEEP_EVERY) == []

    # One more fails a minute later: told with the next notice, a window after the first, not at once.
    customer = Customer.objects.order_by("name").first()
    pulled.faults(script=[{"status": 422, "error": "name is too long"}])
    rename(customer, staff, "A much longer name")
    drain()
    assert alerts.evaluate(now=start + timedelta(minutes=1)) == []
    notices = alerts.evaluate(now=start + timedelta(minutes=10))
    assert subjects(notices) == ["Qwoty: 1 record failed to push"]
    assert "1 record failed to push to Qwoty since the last notice (4 failed in all)" in notices[0].body
    assert "customer “A much longer name”: name is too long" in notices[0].body
    assert alerts.evaluate(now=start + timedelta(minutes=21)) == []  # nothing new failed

    assert push.retry_all_failed() == 4
    drain()
    notices = alerts.evaluate(now=start + timedelta(minutes=25))
    assert subjects(notices) == ["Qwoty recovered after 25 min: no failed records left"]
    assert len(mailoutbox) == 3


def test_two_sweeps_flipping_the_same_alert_notify_once(manager, monkeypatch, mailoutbox):
    """Both sweeps read the alert clear before either moves it; one conditional UPDATE wins, one notice goes out."""
    pause_target("Qwoty refused our token", Target.QWOTY)
    alerts.stored_alerts()
    both_have_read = threading.Barrier(2, timeout=10)
    read = alerts.stored_alerts

    def read_then_wait():
        found = read()
        both_have_read.wait()
        return found

    monkeypatch.setattr(alerts, "stored_alerts", read_then_wait)
    recorded: list[list[AlertNotice]] = []

    def sweep():
        try:
            recorded.append(alerts.evaluate())
        finally:
            connection.close()

    sweeps = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in sweeps:
        thread.start()
    for thread in sweeps:
        thread.join(timeout=30)

    assert sorted(len(notices) for notices in recorded) == [0, 1]
    assert AlertNotice.objects.count() == 1
    assert len(mailoutbox) == 1


def test_notices_never_quote_a_credential(manager, mailoutbox):
    pause_target(f"Qwoty refused our token: Bearer {TEST_TOKEN} (HTTP 401)", Target.QWOTY)
    catalog = factories.CatalogFactory(name=f"Named {TEST_TOKEN}")
    Catalog.objects.filter(pk=catalog.pk).update(
        sync_status=SyncStatus.FAILED, sync_error=f"rejected token {TEST_TOKEN}", sync_error_at=timezone.now()
    )
    notices = alerts.evaluate()
    assert len(notices) == 2
    texts = [text for message in mailoutbox for text in (message.subject, message.body)]
    texts += [text for notice in AlertNotice.objects.all() for text in (notice.subject, notice.body)]
    assert len(texts) == 8
    assert [text for text in texts if TEST_TOKEN in text] == []
    assert "rejected token [REDACTED]" in notices[1].body


def test_managers_with_an_address_and_alert_emails_are_told_each_once(settings):
    settings.ALERT_EMAILS = ["ops@example.com", "Mona@Example.com"]
    factories.manager_user(email="mona@example.com")
    factories.manager_user(email="")
    factories.manager_user(email="gone@example.com", is_active=False)
    factories.sales_ops_user(email="sam@example.com")
    assert alerts.alert_recipients() == ["mona@example.com", "ops@example.com"]


def test_a_notice_is_kept_when_its_email_cannot_be_sent(manager, settings, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    pause_target("Qwoty refused our token", Target.QWOTY)
    (notice,) = alerts.evaluate()
    notice.refresh_from_db()
    assert (notice.emailed_to, notice.email_error) == (0, "mail server down")
    assert alerts.evaluate() == []  # not sent again at the next sweep


def failing_qwoty(count: int) -> None:
    PushAttempt.objects.bulk_create(
        PushAttempt(
            resource="catalogs",
            record_id=factories.CatalogFactory().pk,
            method="PATCH",
            url="http://qwoty.example/api/catalogs/x",
            status=503,
            error_kind="unavailable",
            error_message="Service unavailable",
        )
        for _ in range(count)
    )


def test_the_dashboard_shows_managers_raised_alerts_and_the_last_notices(client, settings):
    settings.ALERT_FAILURE_THRESHOLD = 3
    failing_qwoty(3)
    pause_target("Qwoty refused our token", Target.QWOTY)
    alerts.evaluate()

    client.force_login(factories.manager_user())
    html = client.get(reverse("dashboard")).content.decode()
    card = html[html.index('id="alerts-title"') :]
    raised = card[: card.index("Last notices")]
    assert "Qwoty failing" in raised
    assert "Qwoty is failing: 3 failed pushes in 10 min" in raised
    assert "Qwoty paused" not in raised  # every page's banner says so already
    assert "Qwoty is paused since" in card  # but its notice is in the history
    assert "Not emailed: no manager has an email address" in card

    client.force_login(factories.sales_ops_user())
    assert 'id="alerts-title"' not in client.get(reverse("dashboard")).content.decode()
