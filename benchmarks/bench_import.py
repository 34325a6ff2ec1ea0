"""make bench-import: bulk import throughput for 10,000 rows, against the same changes saved one by one.

In a scratch database (SQLite by default; SCRATCH_DATABASE_URL for PostgreSQL), as Django runs in production:

1. Contacts, through the real path: a CSV of 10,000 rows (a new first name and email, the phone written as
   the page shows it, the roles as they are) is uploaded (`import_start`: size, encoding, header), previewed
   (`import_preview`, what the worker runs: each row through the contact edit form and the links' checks) and
   applied (`import_apply`: `contact_update` per row, versioned, recorded, its push queued), rows per second each.
2. Baselines, the same changes to 10,000 other contacts saved one by one: as the edit page's view saves them (the
   edit form bound to the posted fields and validated, then `contact_update` in a transaction of its own), and for
   1,000 of them through the view itself (a POST of the edit form per contact, Django's test client, in-process).
3. Catalogs: 10,000 rows (a new name, deactivated) previewed and applied.

Pushes are only queued (the database queue's task rows, written in each save's transaction): sending them is
`make bench-push`'s subject.
"""

import argparse
import random
import sys
import time
import uuid
import warnings

from benchmarks.scratch import PRODUCTION, scratch_database


def make_contacts(count: int, rng: random.Random) -> list:
    from backoffice.sync import mirror as mirrors
    from contacts.models import Contact
    from customers.models import Customer

    customers = Customer.objects.bulk_create(
        [Customer(id=uuid.uuid4(), name=f"Customer {n}", type=Customer.Type.COMPANY) for n in range(count // 10)]
    )
    contacts = []
    for n in range(count):
        contact = Contact(
            id=uuid.uuid4(),
            customer=customers[n % len(customers)],
            first_name=f"First{n}",
            last_name=f"Last{n}",
            email=f"contact{n}@example.com",
            phone=f"+336{rng.randrange(10**8):08d}",
            role=["buyer"],
        )
        contact.last_synced = {"id": str(contact.pk), **mirrors.for_model(contact).values(contact)}
        contacts.append(contact)
    return Contact.objects.bulk_create(contacts, batch_size=1000)


def make_catalogs(count: int) -> list:
    from catalogs.models import Catalog

    return Catalog.objects.bulk_create(
        [Catalog(id=uuid.uuid4(), name=f"Catalog {n}", reference=f"REF-{n}") for n in range(count)], batch_size=1000
    )


def timed(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def run_import(resource: str, user, text: str) -> tuple[float, float, float, object]:
    """Upload, preview and apply `text`; the seconds each took, and the job."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from backoffice.imports import services

    upload = SimpleUploadedFile(f"{resource}.csv", text.encode("utf-8"), content_type="text/csv")
    jobs = []
    upload_s = timed(lambda: jobs.append(services.import_start(resource=resource, user=user, upload=upload)))
    job = jobs[0]
    preview_s = timed(lambda: services.import_preview(job_id=job.pk))
    job.refresh_from_db()
    assert services.import_confirm(job=job, user=user)
    # One task applies at most APPLY_ROWS_PER_TASK rows and queues the rest: run each in turn, as the worker would.
    apply_s = timed(lambda: _apply_every_task(services, job.pk))
    job.refresh_from_db()
    return upload_s, preview_s, apply_s, job


def _apply_every_task(services, job_id) -> None:
    while services.import_apply(job_id=job_id) == services.ImportStatus.APPLYING:
        pass


def one_by_one(user, contacts: list, changes: dict) -> float:
    """The baseline: each contact saved as its edit page saves it (form, then the service in its own transaction)."""
    from django.db import transaction

    from contacts.forms import ContactForm
    from contacts.services import contact_update

    started = time.perf_counter()
    for contact in contacts:
        posted = {"version": contact.version, **changes[contact.pk], "role": contact.role}
        form = ContactForm(data=posted, instance=contact)
        for name in ("last_name", "id_crm", "id_erp", "id_accounting"):
            posted[name] = getattr(contact, name) or ""
        assert form.is_valid(), form.errors
        with transaction.atomic():
            contact_update(contact=contact, user=user, data=form.changed_upstream_data() or {}, expected_version=None)
    return time.perf_counter() - started


def through_the_view(user, contacts: list, changes: dict) -> float:
    """Each contact's edit form posted to its edit page, as Sales Ops would save them one by one by hand."""
    from django.test import Client
    from django.urls import reverse

    warnings.filterwarnings("ignore", "No directory at")  # WhiteNoise before collectstatic: pages are not served
    client = Client()
    client.force_login(user)
    started = time.perf_counter()
    for contact in contacts:
        posted = {"version": contact.version, "role": contact.role, **changes[contact.pk]}
        for name in ("last_name", "phone", "id_crm", "id_erp", "id_accounting"):
            posted[name] = getattr(contact, name) or ""
        response = client.post(reverse("contact-update", args=[contact.pk]), posted)
        assert response.status_code in (200, 302), response.status_code
    return time.perf_counter() - started


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>9,.0f} rows/s ({seconds:6.2f} s)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    settings = {
        **PRODUCTION,
        "ALLOWED_HOSTS": "testserver",
        "QWOTY_IMPORT_INLINE_ROWS": 0,
        "QWOTY_IMPORT_MAX_ROWS": max(args.rows, 50_000),
    }
    scratch_database(settings)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from backoffice.accounts import roles
    from backoffice.audit.models import Change
    from backoffice.imports.models import RowStatus
    from contacts.models import Contact
    from contacts.phones import display_phone

    user = get_user_model().objects.create(username="bench-sales")
    user.groups.set([Group.objects.get(name=roles.SALES_OPS)])
    rng = random.Random(11)
    print(f"bench-import on {connection.vendor}: {args.rows:,} rows each")
    imported = make_contacts(args.rows, rng)
    baseline = make_contacts(args.rows, rng)

    text = "id,first_name,email,phone,role\n" + "".join(
        f"{c.pk},Renamed{n},new{n}@example.org,{display_phone(c.phone)},buyer\n" for n, c in enumerate(imported)
    )
    upload_s, preview_s, apply_s, job = run_import("contacts", user, text)
    applied = job.rows.filter(status=RowStatus.APPLIED).count()
    assert applied == args.rows, f"{applied} of {args.rows} applied: {job.rows.exclude(status=RowStatus.APPLIED)[:3]}"
    assert Contact.objects.filter(pk__in=[c.pk for c in imported], version=2).count() == args.rows
    print("contacts, bulk import:")
    print(f"  upload (size, encoding, header)  {rate(args.rows, upload_s)}")
    print(f"  preview (edit form per row)      {rate(args.rows, preview_s)}")
    print(f"  apply (contact_update per row)   {rate(args.rows, apply_s)}")
    total = upload_s + preview_s + apply_s
    print(f"  the whole import                 {rate(args.rows, total)}")

    changes = {c.pk: {"first_name": f"Renamed{n}", "email": f"new{n}@example.org"} for n, c in enumerate(baseline)}
    baseline_s = one_by_one(user, baseline, changes)
    assert Change.objects.filter(record_id__in=[c.pk for c in baseline]).count() == args.rows
    print("contacts, baseline (the edit page's form and service, one transaction per contact):")
    print(f"  one by one (form + service)      {rate(args.rows, baseline_s)}")
    by_hand = baseline[: min(1000, args.rows)]
    later = {c.pk: {"first_name": f"Again{n}", "email": f"again{n}@example.org"} for n, c in enumerate(by_hand)}
    for contact in by_hand:
        contact.refresh_from_db()
    view_s = through_the_view(user, by_hand, later)
    assert Contact.objects.filter(pk__in=[c.pk for c in by_hand], version=3).count() == len(by_hand)
    print(f"  one by one (edit page, {len(by_hand):,} POSTs) {rate(len(by_hand), view_s)}")
    import_rate, view_rate = args.rows / total, len(by_hand) / view_s
    print(f"  the whole import runs at {import_rate / (args.rows / baseline_s):.1f} times the form + service rate,")
    print(f"  at {import_rate / view_rate:.1f} times the edit page's")

    catalogs = make_catalogs(args.rows)
    text = "id,name,is_active\n" + "".join(f"{c.pk},Renamed catalog {n},false\n" for n, c in enumerate(catalogs))
    upload_s, preview_s, apply_s, job = run_import("catalogs", user, text)
    assert job.rows.filter(status=RowStatus.APPLIED).count() == args.rows
    print("catalogs, bulk import:")
    print(f"  preview (edit form per row)      {rate(args.rows, preview_s)}")
    print(f"  apply (catalog_update per row)   {rate(args.rows, apply_s)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
