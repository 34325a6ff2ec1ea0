"""Bulk import (backoffice/imports/): a CSV of contact or catalog changes is checked row by row by the edit forms, then
applied through the same services as an edit (versioned, recorded, pushed), conflicts reported, nothing lost."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backoffice.audit.models import Change
from backoffice.imports import services
from backoffice.imports.models import ImportJob, ImportStatus, RowStatus
from backoffice.imports.parsing import ImportFileError
from backoffice.sync.models import SyncStatus
from catalogs.models import Catalog
from contacts.models import Contact
from contacts.services import contact_update
from tests import factories
from tests.queues import BACKENDS, use_queue


def upload(text: str | bytes, name: str = "changes.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text if isinstance(text, bytes) else text.encode(), content_type="text/csv")


def start(user, text, resource="contacts") -> ImportJob:
    return services.import_start(resource=resource, user=user, upload=upload(text))


def rows_by_line(job: ImportJob) -> dict:
    return {row.line: row for row in job.rows.all()}


@pytest.fixture
def sales(db):
    return factories.sales_ops_user()


@pytest.fixture
def contacts(db):
    customer = factories.CustomerFactory()
    factories.TaxIdFactory(customer=customer, tax="VAT", tax_value="FR40303265045")
    return [factories.ContactFactory(customer=customer, phone="+33612345678") for _ in range(3)]


def test_preview_shows_each_row_as_unchanged_changed_or_an_error(sales, contacts):
    first, second, third = contacts
    text = (
        "id,first_name,phone,role\n"
        f"{first.pk},Amélie,,\n"  # a change; blank cells leave phone and roles as they are
        f"{second.pk},{second.first_name},06 12 34 56 78,buyer\n"  # the same values, written differently
        f"{third.pk},,12,\n"  # a phone phonenumbers refuses
        "4b0c6e1e-0000-4000-8000-000000000000,Ghost,,\n"
        "not-an-id,Nobody,,\n"
        f"{'x' * 100},Long,,\n"
        f"{third.pk},,,buyer wizard\n"  # the same contact again
        f"{second.pk},Too,many,cells,here\n"
    )
    job = start(sales, text)

    assert job.status == ImportStatus.READY
    assert services.import_counts(job) | {"not_applied": 0} == {
        **dict.fromkeys(RowStatus.values, 0),
        "change": 1,
        "unchanged": 1,
        "error": 6,
        "not_applied": 0,
    }
    rows = rows_by_line(job)
    assert rows[2].changes == {"first_name": [first.first_name, "Amélie"]}
    assert rows[3].status == RowStatus.UNCHANGED
    assert rows[4].errors[0].startswith("phone: ")
    assert rows[5].errors == ["No contact has the id 4b0c6e1e-0000-4000-8000-000000000000."]
    assert rows[6].errors == ["“not-an-id” is not a contact id."]
    assert rows[7].errors == [f"“{'x' * 64}” is not a contact id."]
    assert rows[8].errors == ["This contact is already changed on line 4; one row per contact."]
    assert rows[9].errors == ["This row has 5 cells where the header has 4."]
    first.refresh_from_db()
    assert first.first_name != "Amélie"  # nothing is saved by a preview


def test_an_unknown_role_is_refused_as_the_edit_form_refuses_it(sales, contacts):
    job = start(sales, f"id,role\n{contacts[0].pk},buyer wizard\n")
    (row,) = job.rows.all()
    assert row.status == RowStatus.ERROR
    assert row.errors == ["role: Select a valid choice. wizard is not one of the available choices."]


def test_catalog_rows_are_checked_by_the_catalog_form(sales):
    catalog = factories.CatalogFactory(is_active=True)
    other = factories.CatalogFactory()
    text = f"id,name,is_active\n{catalog.pk},,no\n{other.pk},{'x' * 300},maybe\n"
    job = start(sales, text, resource="catalogs")
    rows = rows_by_line(job)
    assert rows[2].changes == {"is_active": [True, False]}  # "no" is false, not a ticked checkbox
    assert rows[3].status == RowStatus.ERROR
    assert rows[3].errors == [
        "is_active: “maybe” is not true or false.",
        "name: Ensure this value has at most 255 characters (it has 300).",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "This is not a CSV file"),
        ("id,first_name\n1,Zoë\n".encode("latin-1"), "This file is not UTF-8 text"),
        (b"first_name,last_name\nA,B\n", "must name the columns, one of them “id”"),
        (b"id,first_name,shoe_size\n1,A,42\n", "Unknown or not yours to change: shoe_size."),
        (b"id,first_name,First_Name\n1,A,B\n", "These columns appear twice: first_name."),
        (b"id\n1\n", "Nothing to change"),
        (b"", "This file is empty."),
        (b"id,first_name\n", "This file has a header but no rows."),
        (b"id\tfirst_name\n1\tA\n", "This file's columns are separated by tabs"),
        (b'id,first_name\n1,"' + b"x" * 200_000 + b'"\n', "This file is not valid CSV"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_whole_and_nothing_is_kept(sales, content, message):
    with pytest.raises(ImportFileError, match=message):
        start(sales, content)
    assert not ImportJob.objects.exists()


def test_too_large_a_file_is_refused_before_it_is_read(sales, contacts, settings):
    settings.QWOTY_IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportFileError, match=r"This file is 209 bytes; an import takes at most 100 bytes\. Split it"):
        start(sales, "id,first_name\n" + f"{contacts[0].pk},A\n" * 5)  # 209 bytes
    settings.QWOTY_IMPORT_MAX_BYTES = 10_000
    settings.QWOTY_IMPORT_MAX_ROWS = 2
    with pytest.raises(ImportFileError, match="This file has 3 rows; an import takes at most 2"):
        start(sales, "id,first_name\n" + f"{contacts[0].pk},A\n" * 3)
    assert not ImportJob.objects.exists()


def test_roles_are_read_whatever_their_case_and_shown_as_people_read_them(client, sales, contacts):
    job = start(sales, f"id,role\n{contacts[0].pk},Buyer SIGNER\n")
    assert job.rows.get().changes == {"role": [["buyer"], ["buyer", "signer"]]}
    client.force_login(sales)
    page = client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert "<strong>role</strong>: <del>buyer</del> → <ins>buyer, signer</ins>" in page


def test_excel_files_with_a_byte_order_mark_and_semicolons_are_read(sales, contacts):
    text = f"\ufeffid;first_name;role\r\n{contacts[0].pk};Zoë;buyer,signer\r\n"
    job = start(sales, text)
    (row,) = job.rows.all()
    assert job.delimiter == ";"
    assert row.changes == {"first_name": [contacts[0].first_name, "Zoë"], "role": [["buyer"], ["buyer", "signer"]]}


def test_support_imports_only_the_contact_details_their_role_may_change(client, contacts):
    support = factories.support_user()
    client.force_login(support)
    template = b"".join(client.get(reverse("contact-import-template")).streaming_content).decode("utf-8-sig")
    assert template.splitlines()[0] == "id,version,first_name,last_name,email,phone,role"
    with pytest.raises(ImportFileError, match="Unknown or not yours to change: id_crm"):
        start(support, f"id,id_crm\n{contacts[0].pk},CRM-9\n")
    job = start(support, f"id,email\n{contacts[0].pk},new@example.org\n")
    assert job.rows.get().status == RowStatus.CHANGE
    with pytest.raises(PermissionDenied):
        start(support, f"id,name\n{factories.CatalogFactory().pk},New\n", resource="catalogs")


def test_the_template_round_trips_unchanged_formula_quotes_and_all(client, sales, contacts):
    contacts[0].first_name = "=HYPERLINK(1)"
    contacts[0].save()
    client.force_login(sales)
    template = b"".join(client.get(reverse("contact-import-template")).streaming_content).decode()
    assert "'=HYPERLINK(1)" in template  # stays text in a spreadsheet
    assert "'+33612345678" in template

    job = start(sales, template.encode("utf-8"))

    assert job.total_rows == 3
    assert services.import_counts(job)["unchanged"] == 3


def test_a_template_row_whose_record_changed_since_the_download_is_not_applied_over_it(client, sales, contacts):
    """A colleague's edit made after the download is not undone by the row's older values."""
    client.force_login(sales)
    template = b"".join(client.get(reverse("contact-import-template")).streaming_content).decode("utf-8-sig")
    by_id = {row["id"]: row for row in csv.DictReader(io.StringIO(template))}
    first, second = by_id[str(contacts[0].pk)], by_id[str(contacts[1].pk)]
    contact_update(contact=contacts[0], user=None, data={"email": "colleague@example.com"})  # after the download
    contact_update(contact=contacts[1], user=None, data={"email": "another@example.com"})

    first["last_name"] += "-Edited"
    second.update(version="", last_name=second["last_name"] + "-Edited")  # no check asked
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(first))
    writer.writeheader()
    writer.writerows([first, second])
    job = start(sales, out.getvalue())

    changed_since, unchecked = sorted(job.rows.all(), key=lambda row: row.line)
    assert changed_since.status == "error"
    assert changed_since.errors == [
        "This contact was changed since the template was downloaded (version 1, now 2): download the template again, "
        "or blank its version to change it anyway."
    ]
    # Without a version, the row's cells are taken as they are: the email typed back, the colleague's undone.
    assert unchecked.status == "change"
    assert set(unchecked.changes) == {"last_name", "email"}


@pytest.mark.parametrize("version", ["v2", "²", "-1"])
def test_a_version_that_is_no_number_is_an_error_on_its_row(sales, contacts, version):
    job = start(sales, f"id,version,first_name\n{contacts[0].pk},{version},Léa\n")
    assert job.rows.get().errors == [f"version: “{version}” is not a version number (blank it to skip the check)."]


@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_previewed_by_the_worker_with_its_progress(sales, contacts, settings, drain):
    settings.QWOTY_IMPORT_INLINE_ROWS = 1
    job = start(sales, "id,last_name\n" + "".join(f"{c.pk},Moreau\n" for c in contacts))
    assert job.status == ImportStatus.PREVIEWING
    assert not job.rows.exists()

    drain()

    job.refresh_from_db()
    assert job.status == ImportStatus.READY
    assert job.previewed_rows == 3
    assert services.import_counts(job)["change"] == 3


@pytest.mark.django_db(transaction=True)
def test_an_imports_task_goes_ahead_of_the_pushes_waiting(sales, contacts, task_queue):
    """Someone watches its progress bar; the pushes it queues come after those already waiting, as before."""
    from django_tasks_db.models import DBTaskResult

    for contact in contacts:
        contact_update(contact=contact, user=None, data={"first_name": "Waiting"})  # a push task each
    job = start(sales, f"id,last_name\n{contacts[0].pk},Imported\n")
    assert services.import_confirm(job=job, user=sales)
    ready = [row.task_path.rsplit(".", 1)[1] for row in DBTaskResult.objects.ready()]
    assert ready == ["apply_import", *["push_record"] * len(contacts)]


class TestApply:
    """Applying runs on the real worker, on both queues, and the pushes reach the sandbox."""

    pytestmark = pytest.mark.django_db(transaction=True)

    @pytest.fixture(params=BACKENDS, autouse=True)
    def task_queue(self, request, settings):
        return use_queue(request.param, settings)

    def test_confirmed_rows_are_saved_by_the_edit_service_and_pushed(self, pulled, drain):
        sales = factories.sales_ops_user()
        contact, other = Contact.objects.order_by("pk")[:2]
        job = start(sales, f"id,first_name,id_crm\n{contact.pk},Renée,CRM-NEW\n{other.pk},,\n")
        assert services.import_confirm(job=job, user=sales)
        assert not services.import_confirm(job=job, user=sales)  # a second click starts nothing

        drain()

        job.refresh_from_db()
        assert job.status == ImportStatus.DONE
        assert (job.to_apply, job.applied_rows) == (1, 1)
        assert job.content == ""  # kept until the import is done
        contact.refresh_from_db()
        assert (contact.first_name, contact.id_crm, contact.version) == ("Renée", "CRM-NEW", 2)
        assert contact.sync_status == SyncStatus.SYNCED
        change = Change.objects.get(record_id=contact.pk)
        assert change.user == sales
        assert change.changes["first_name"][1] == "Renée"
        (patch,) = pulled.received("PATCH")
        assert patch["path"] == f"/api/contacts/{contact.pk}"
        assert patch["body"] == {"first_name": "Renée", "id_crm": "CRM-NEW"}

    def test_a_record_edited_after_the_preview_is_a_conflict_and_not_overwritten(self, pulled, drain):
        sales = factories.sales_ops_user()
        catalog, other = Catalog.objects.order_by("pk")[:2]
        job = start(sales, f"id,name\n{catalog.pk},From the file\n{other.pk},Also from the file\n", "catalogs")
        colleague = factories.manager_user()
        from catalogs.services import catalog_update

        catalog_update(catalog=catalog, user=colleague, data={"description": "Edited meanwhile"})
        services.import_confirm(job=job, user=sales)

        drain()

        rows = rows_by_line(job)
        assert rows[2].status == RowStatus.CONFLICT
        assert rows[2].errors == ["Changed by someone else since the preview (now version 2); not overwritten."]
        assert rows[3].status == RowStatus.APPLIED
        catalog.refresh_from_db()
        assert catalog.name != "From the file"
        assert catalog.description == "Edited meanwhile"
        assert services.import_counts(job)["not_applied"] == 1

    def test_a_long_apply_goes_on_in_further_tasks(self, pulled, drain, monkeypatch):
        monkeypatch.setattr(services, "APPLY_CHUNK", 2)
        monkeypatch.setattr(services, "APPLY_ROWS_PER_TASK", 2)
        sales = factories.sales_ops_user()
        contacts = list(Contact.objects.order_by("pk")[:5])
        job = start(sales, "id,id_erp\n" + "".join(f"{c.pk},IMPORTED-{n}\n" for n, c in enumerate(contacts)))
        services.import_confirm(job=job, user=sales)

        assert services.import_apply(job_id=job.pk) == ImportStatus.APPLYING  # 2 rows, then the rest queued
        job.refresh_from_db()
        assert job.applied_rows == 2
        drain()

        job.refresh_from_db()
        assert (job.status, job.applied_rows) == (ImportStatus.DONE, 5)
        assert sorted(Contact.objects.filter(id_erp__startswith="IMPORTED-").values_list("id_erp", flat=True)) == [
            f"IMPORTED-{n}" for n in range(5)
        ]
        assert len(pulled.received("PATCH")) == 5


@pytest.mark.django_db(transaction=True)
def test_an_apply_left_by_a_dead_worker_resumes_where_it_stopped(pulled, settings, task_queue):
    sales = factories.sales_ops_user()
    first, second = Contact.objects.order_by("pk")[:2]
    job = start(sales, f"id,last_name\n{first.pk},Durand\n{second.pk},Petit\n")
    services.import_confirm(job=job, user=sales)
    task_queue.forget("apply_import")  # the worker died with the task
    contact_update(contact=first, user=sales, data={"last_name": "Durand"}, expected_version=first.version)
    job.rows.filter(line=2).update(status=RowStatus.APPLIED)  # ...after applying the first row

    settings.QWOTY_IMPORT_STALE_SECONDS = 0
    assert services.import_sweep() == 1
    task_queue.run_once()

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert set(job.rows.values_list("status", flat=True)) == {RowStatus.APPLIED}
    second.refresh_from_db()
    assert second.last_name == "Petit"


def test_only_the_uploader_may_confirm(sales, contacts):
    job = start(sales, f"id,first_name\n{contacts[0].pk},New\n")
    with pytest.raises(PermissionDenied):
        services.import_confirm(job=job, user=factories.sales_ops_user())
    job.refresh_from_db()
    assert job.status == ImportStatus.READY


class TestPages:
    def test_the_import_button_is_on_the_lists_of_those_who_may_import(self, client, sales):
        client.force_login(sales)
        assert b'id="import-link"' in client.get(reverse("contact-list")).content
        assert b'id="import-link"' in client.get(reverse("catalog-list")).content

    def test_a_live_search_takes_the_import_link_along(self, client, sales):
        """The template holds the rows the list shows: after a search typed in the box, those rows."""
        client.force_login(sales)
        headers = {"HX-Request": "true", "HX-Target": "results"}
        answer = client.get(reverse("contact-list"), {"q": "lucas", "role": "legal"}, headers=headers).content.decode()
        assert (
            '<a class="button" id="import-link" href="/contacts/import/?q=lucas&amp;role=legal" hx-swap-oob="true">'
            in answer
        )
        page = client.get(reverse("catalog-list"), {"q": "autumn"}).content.decode()
        assert page.count('id="import-link"') == 1  # the page's own, not a second one for a fragment

    def test_a_bad_file_is_explained_on_the_upload_page(self, client, sales):
        client.force_login(sales)
        response = client.post(reverse("contact-import"), {"file": upload(b"\x00\x01binary")})
        assert response.status_code == 400
        assert "This is not a CSV file" in response.content.decode()
        response = client.post(reverse("contact-import"), {})
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()

    def test_upload_preview_and_errors_file(self, client, sales, contacts):
        client.force_login(sales)
        text = f"id,first_name\n{contacts[0].pk},Léa\n=cmd|' /C calc'!A0,Eve\n"
        response = client.post(reverse("contact-import"), {"file": upload(text)})
        job = ImportJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("import-detail", args=[job.pk])

        page = client.get(response["Location"]).content.decode()
        assert "<strong>1</strong> will change" in page
        assert f'title="{contacts[0].pk}">{contacts[0]}</a>' in page  # the contact by name, its id on hover
        assert f"by {sales.get_full_name()}." in page
        assert "is not a contact id" in page
        assert "Apply 1 change" in page
        errors_only = client.get(response["Location"], {"show": "error"}).content.decode()
        assert "is not a contact id" in errors_only
        assert "Léa" not in errors_only
        assert client.get(response["Location"], {"show": "bogus", "page": "-3"}).status_code == 200
        assert "No rows to show here." in client.get(response["Location"], {"page": "40"}).content.decode()
        assert "Apply 1 change" in client.get(response["Location"], {"page": "9" * 30}).content.decode()  # page 1

        errors = b"".join(client.get(reverse("import-errors", args=[job.pk])).streaming_content).decode("utf-8-sig")
        assert list(csv.reader(io.StringIO(errors))) == [
            ["id", "first_name", "error"],
            ["'=cmd|' /C calc'!A0", "Eve", "line 3: “=cmd|' /C calc'!A0” is not a contact id."],
        ]

    def test_someone_elses_import_is_not_found(self, client, sales, contacts):
        job = start(sales, f"id,first_name\n{contacts[0].pk},New\n")
        client.force_login(factories.manager_user())
        assert client.get(reverse("import-detail", args=[job.pk])).status_code == 404
        assert client.post(reverse("import-apply", args=[job.pk])).status_code == 404


def test_the_errors_file_replaces_an_uploaded_error_column_and_keeps_a_ragged_rows_cells(sales, contacts):
    text = f"id,error,first_name\n{contacts[0].pk}x,line 2: old reason,A\n{contacts[1].pk},,B,extra\n"
    job = start(sales, text)
    header, rows = services.import_error_rows(job)
    assert header == ["id", "first_name", "error"]
    assert list(rows) == [
        [f"{contacts[0].pk}x", "A", f"line 2: “{contacts[0].pk}x” is not a contact id."],
        [str(contacts[1].pk), "B", "extra", "line 3: This row has 4 cells where the header has 3."],
    ]


def test_import_jobs_are_read_only_in_the_admin(client, sales, contacts):
    job = start(sales, f"id,first_name\n{contacts[0].pk},New\n")
    client.force_login(factories.superuser())
    assert client.get(reverse("admin:imports_importjob_changelist")).status_code == 200
    page = client.get(reverse("admin:imports_importjob_change", args=[job.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
