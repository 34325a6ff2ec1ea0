"""Managers' tax-ID review: decisions with their audit trail, edits pushed as the `tax_ids` list, the review page."""

import csv
import io
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.audit.models import Change
from backoffice.sync import mirror as mirrors
from backoffice.sync.context import applying_upstream
from backoffice.sync.models import SyncStatus
from backoffice.ui.templatetags.backoffice import record_path
from customers.mirror import set_tax_ids
from customers.models import Customer, TaxId, TaxIdReview
from customers.tax_ids import selectors as tax_id_selectors
from customers.tax_ids import services as tax_review
from tests import factories

Review = TaxId.Review
Validation = TaxId.Validation
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/tax-ids/"}

# Real numbers: a French company's VAT, SIREN and SIRET agree; 123456789 is the upstream docs' bad SIREN.
FR_VAT, FR_SIREN, FR_SIRET = "FR40303265045", "303265045", "30326504500011"


def customer_with(*pairs: tuple[str, str], name: str | None = None) -> Customer:
    """A customer as a pull leaves it: tax IDs validated, last-synced snapshot equal to the record."""
    customer = factories.CustomerFactory(**({"name": name} if name else {}))
    with applying_upstream():
        set_tax_ids(customer, [{"tax": tax, "tax_value": value} for tax, value in pairs])
        customer.last_synced = {"id": str(customer.pk), **mirrors.for_model(customer).values(customer)}
        customer.save(update_fields=["last_synced"])
    return customer


def tax_ids_of(customer: Customer) -> list[tuple[str, str]]:
    return list(customer.tax_ids.order_by("position").values_list("tax", "tax_value"))


def row(customer: Customer, tax_value: str) -> TaxId:
    return customer.tax_ids.get(tax_value=tax_value)


@pytest.fixture
def manager(db):
    return factories.manager_user(first_name="Mia", last_name="Manager")


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


# ---- validation kept on the rows ---------------------------------------------------------------------


def test_pulled_invalid_values_are_kept_as_they_are_and_flagged(db):
    customer = customer_with(("SIREN", "123456789"), ("VAT", "fr 40 303 265 045"), ("ABN", "51 824 753 556"))

    siren, vat, abn = customer.tax_ids.order_by("position")
    assert (siren.tax_value, siren.validation_status, siren.validation_reason) == (
        "123456789",
        Validation.INVALID,
        "Bad check digit",
    )
    assert (vat.tax_value, vat.validation_status, vat.suggestion) == ("fr 40 303 265 045", Validation.VALID, FR_VAT)
    assert (abn.validation_status, abn.validation_reason) == (Validation.UNKNOWN, "Cannot check tax type ABN")


def test_a_vat_without_its_prefix_is_invalid_with_the_completed_form_suggested(db):
    customer = customer_with(("SIREN", FR_SIREN), ("VAT", "40303265045"))

    vat = row(customer, "40303265045")
    assert (vat.validation_status, vat.validation_reason, vat.suggestion, vat.country) == (
        Validation.INVALID,
        "Unknown country prefix",
        FR_VAT,
        "FR",
    )


# ---- review decisions ----------------------------------------------------------------------------------


def test_approval_records_who_when_and_the_note_in_the_row_and_the_audit_trail(manager):
    tax_id = row(customer_with(("VAT", FR_VAT)), FR_VAT)

    tax_review.tax_id_approve(tax_id=tax_id, user=manager, note="Checked on VIES")

    tax_id.refresh_from_db()
    assert (tax_id.review_status, tax_id.reviewed_by, tax_id.review_note) == (
        Review.APPROVED,
        manager,
        "Checked on VIES",
    )
    assert tax_id.reviewed_at is not None
    audit = TaxIdReview.objects.get()
    assert (audit.tax_id, audit.action, audit.user, audit.note, audit.tax_value) == (
        tax_id,
        TaxIdReview.Action.APPROVED,
        manager,
        "Checked on VIES",
        FR_VAT,
    )


def test_approving_a_tax_id_that_fails_validation_needs_a_note(manager):
    tax_id = row(customer_with(("SIREN", "123456789")), "123456789")

    with pytest.raises(ValidationError) as refused:
        tax_review.tax_id_approve(tax_id=tax_id, user=manager, note="  ")
    assert "Bad check digit" in refused.value.message_dict["note"][0]

    tax_review.tax_id_approve(tax_id=tax_id, user=manager, note="The registry has it so")
    tax_id.refresh_from_db()
    assert tax_id.review_status == Review.APPROVED


def test_rejection_needs_a_note_and_records_the_rejecting_user(manager):
    other_manager = factories.manager_user()
    tax_id = row(customer_with(("VAT", FR_VAT)), FR_VAT)

    with pytest.raises(ValidationError):
        tax_review.tax_id_reject(tax_id=tax_id, user=manager, note="")
    tax_review.tax_id_approve(tax_id=tax_id, user=manager)
    tax_review.tax_id_reject(tax_id=tax_id, user=other_manager, note="Belongs to the parent company")

    tax_id.refresh_from_db()
    assert (tax_id.review_status, tax_id.reviewed_by) == (Review.REJECTED, other_manager)
    assert list(TaxIdReview.objects.values_list("action", "user")) == [
        (TaxIdReview.Action.REJECTED, other_manager.pk),
        (TaxIdReview.Action.APPROVED, manager.pk),
    ]


def test_a_decision_on_a_value_that_changed_meanwhile_is_refused(manager):
    tax_id = row(customer_with(("VAT", FR_VAT)), FR_VAT)

    with pytest.raises(tax_review.TaxIdChanged):
        tax_review.tax_id_approve(tax_id=tax_id, user=manager, expected_value="FR00000000000")
    assert not TaxIdReview.objects.exists()


def test_review_decisions_are_local_and_queue_no_push(manager):
    customer = customer_with(("VAT", FR_VAT))

    tax_review.tax_id_approve(tax_id=row(customer, FR_VAT), user=manager)

    customer.refresh_from_db()
    assert customer.sync_status == SyncStatus.SYNCED


def test_bulk_approval_approves_only_passing_unreviewed_tax_ids_of_the_filter(manager):
    french = customer_with(("VAT", FR_VAT), ("SIREN", "123456789"), ("SIRET", FR_SIRET))
    german = customer_with(("VAT", "DE136695976"))
    rejected = row(customer_with(("VAT", "BE0403019261")), "BE0403019261")
    tax_review.tax_id_reject(tax_id=rejected, user=manager, note="Not theirs")
    from customers.tax_ids.selectors import taxid_list

    approved = tax_review.tax_ids_approve_passing(queryset=taxid_list(country="FR"), user=manager)

    assert approved == 2
    assert set(TaxId.objects.filter(review_status=Review.APPROVED).values_list("tax_value", flat=True)) == {
        FR_VAT,
        FR_SIRET,
    }
    assert row(french, "123456789").review_status == Review.UNREVIEWED  # invalid
    assert row(german, "DE136695976").review_status == Review.UNREVIEWED  # other filter
    assert TaxId.objects.get(pk=rejected.pk).review_status == Review.REJECTED  # a decision is not overturned
    assert TaxIdReview.objects.filter(action="approved", user=manager).count() == 2


# ---- edits of the list ------------------------------------------------------------------------------------


def test_fix_replaces_the_value_by_its_suggested_form_and_records_the_change(manager):
    customer = customer_with(("SIREN", FR_SIREN), ("VAT", "40303265045"))

    fixed = tax_review.tax_id_fix(tax_id=row(customer, "40303265045"), user=manager)

    assert (fixed.tax_value, fixed.validation_status, fixed.suggestion) == (FR_VAT, Validation.VALID, "")
    assert tax_ids_of(customer) == [("SIREN", FR_SIREN), ("VAT", FR_VAT)]
    change = Change.objects.get(record_id=customer.pk)
    assert change.user == manager
    assert change.changes["tax_ids"][1][1] == {"tax": "VAT", "tax_value": FR_VAT}
    customer.refresh_from_db()
    assert customer.sync_status == SyncStatus.PENDING


def test_fix_without_a_suggestion_is_refused(manager):
    customer = customer_with(("SIREN", "123456789"))

    with pytest.raises(ValidationError):
        tax_review.tax_id_fix(tax_id=row(customer, "123456789"), user=manager)
    assert tax_ids_of(customer) == [("SIREN", "123456789")]


def test_an_invalid_value_is_refused_and_nothing_is_saved_or_queued(manager):
    customer = customer_with(("SIREN", FR_SIREN))

    with pytest.raises(ValidationError) as refused:
        tax_review.tax_id_update(tax_id=row(customer, FR_SIREN), user=manager, tax="SIREN", tax_value="123456789")
    assert refused.value.message_dict["tax_value"] == ["Not a valid SIREN: Bad check digit."]
    with pytest.raises(ValidationError):
        tax_review.tax_id_add(customer=customer, user=manager, tax="VAT", tax_value="FR41303265045")

    assert tax_ids_of(customer) == [("SIREN", FR_SIREN)]
    customer.refresh_from_db()
    assert customer.sync_status == SyncStatus.SYNCED
    assert not Change.objects.exists()


def test_add_stores_the_normal_form_refuses_a_duplicate_and_keeps_unknown_types(manager):
    customer = customer_with(("SIREN", FR_SIREN))

    added = tax_review.tax_id_add(customer=customer, user=manager, tax="vat", tax_value="fr 40 303 265 045")
    assert (added.tax, added.tax_value, added.position) == ("VAT", FR_VAT, 1)
    with pytest.raises(ValidationError) as duplicate:
        tax_review.tax_id_add(customer=customer, user=manager, tax="VAT", tax_value="FR 40303265045")
    assert "already has VAT FR40303265045" in duplicate.value.message_dict["tax_value"][0]
    unknown = tax_review.tax_id_add(customer=customer, user=manager, tax="ABN", tax_value="51 824 753 556")

    assert (unknown.tax_value, unknown.validation_status) == ("51 824 753 556", Validation.UNKNOWN)
    assert tax_ids_of(customer) == [("SIREN", FR_SIREN), ("VAT", FR_VAT), ("ABN", "51 824 753 556")]


def test_remove_takes_the_tax_id_off_and_keeps_its_review_history(manager):
    customer = customer_with(("VAT", FR_VAT), ("SIREN", FR_SIREN))
    vat = row(customer, FR_VAT)
    tax_review.tax_id_approve(tax_id=vat, user=manager)

    tax_review.tax_id_remove(tax_id=vat, user=manager)

    assert tax_ids_of(customer) == [("SIREN", FR_SIREN)]
    audit = TaxIdReview.objects.get()
    assert (audit.tax_id, audit.customer_id, audit.tax_value, audit.user) == (None, customer.pk, FR_VAT, manager)


def test_move_reorders_the_list_and_keeps_reviews(manager):
    customer = customer_with(("VAT", FR_VAT), ("SIREN", FR_SIREN), ("SIRET", FR_SIRET))
    siret = row(customer, FR_SIRET)
    tax_review.tax_id_approve(tax_id=siret, user=manager)

    tax_review.tax_id_move(tax_id=siret, user=manager, offset=-1)
    tax_review.tax_id_move(tax_id=row(customer, FR_SIRET), user=manager, offset=-1)
    tax_review.tax_id_move(tax_id=row(customer, FR_SIRET), user=manager, offset=-1)  # already first: no change

    assert tax_ids_of(customer) == [("SIRET", FR_SIRET), ("VAT", FR_VAT), ("SIREN", FR_SIREN)]
    assert row(customer, FR_SIRET).review_status == Review.APPROVED
    assert Change.objects.filter(record_id=customer.pk).count() == 2


def test_changing_a_value_resets_its_review_and_the_history_stays(manager):
    customer = customer_with(("SIREN", "732829320"))
    siren = row(customer, "732829320")
    tax_review.tax_id_approve(tax_id=siren, user=manager, note="ok")

    updated = tax_review.tax_id_update(tax_id=siren, user=manager, tax="SIREN", tax_value=FR_SIREN)

    assert updated.pk == siren.pk
    assert (updated.tax_value, updated.review_status, updated.reviewed_by, updated.review_note) == (
        FR_SIREN,
        Review.UNREVIEWED,
        None,
        "",
    )
    assert list(TaxIdReview.objects.values_list("action", "user", "tax_value")) == [
        (TaxIdReview.Action.RESET, manager.pk, FR_SIREN),
        (TaxIdReview.Action.APPROVED, manager.pk, "732829320"),
    ]


def test_a_value_changed_in_qwoty_resets_the_review_with_no_user(manager):
    customer = customer_with(("SIREN", "732829320"))
    tax_review.tax_id_approve(tax_id=row(customer, "732829320"), user=manager)

    with applying_upstream():
        set_tax_ids(customer, [{"tax": "SIREN", "tax_value": "123456789"}])

    siren = customer.tax_ids.get()
    assert (siren.tax_value, siren.review_status, siren.validation_status) == (
        "123456789",
        Review.UNREVIEWED,
        Validation.INVALID,
    )
    reset = TaxIdReview.objects.filter(action=TaxIdReview.Action.RESET).get()
    assert reset.user is None
    assert "in Qwoty" in reset.note


# ---- edits reach Qwoty --------------------------------------------------------------------------------------


def test_every_kind_of_edit_is_pushed_as_the_customers_new_tax_ids_list(pulled, drain):
    manager = factories.manager_user()
    customer = (
        Customer.objects.filter(tax_ids__tax="SIREN", tax_ids__validation_status=Validation.VALID)
        .filter(tax_ids__tax="VAT")
        .order_by("name")
        .distinct()
        .first()
    )
    before = [{"tax": tax, "tax_value": value} for tax, value in tax_ids_of(customer)]
    siren = customer.tax_ids.get(tax="SIREN")

    def pushed() -> list:
        drain()
        patches = [request for request in pulled.received("PATCH") if request["path"].endswith(str(customer.pk))]
        pulled.clear_log()
        assert len(patches) == 1, patches
        return patches[0]["body"]

    tax_review.tax_id_fix(tax_id=siren, user=manager)  # the seed prints SIRENs with spaces
    compact = siren.tax_value.replace(" ", "")
    expected = [item if item["tax"] != "SIREN" else {"tax": "SIREN", "tax_value": compact} for item in before]
    assert pushed() == {"tax_ids": expected}

    tax_review.tax_id_add(customer=customer, user=manager, tax="EIN", tax_value="91-1144442")
    expected = [*expected, {"tax": "EIN", "tax_value": "911144442"}]
    assert pushed() == {"tax_ids": expected}

    tax_review.tax_id_move(tax_id=customer.tax_ids.get(tax="EIN"), user=manager, offset=-1)
    expected = [*expected[:-2], expected[-1], expected[-2]]
    assert pushed() == {"tax_ids": expected}

    tax_review.tax_id_remove(tax_id=customer.tax_ids.get(tax="EIN"), user=manager)
    expected = [item for item in expected if item["tax"] != "EIN"]
    assert pushed() == {"tax_ids": expected}

    customer.refresh_from_db()
    assert customer.sync_status == SyncStatus.SYNCED
    assert pulled.api("GET", f"customers/{customer.pk}").json()["data"]["tax_ids"] == expected


def test_approving_pushes_nothing(pulled, drain):
    tax_id = TaxId.objects.filter(validation_status=Validation.VALID).first()

    tax_review.tax_id_approve(tax_id=tax_id, user=factories.manager_user())
    drain()

    assert pulled.received("PATCH") == []


# ---- the review page ------------------------------------------------------------------------------------------


def listed(response) -> list[str]:
    """The tax values of the rows shown, in order."""
    return [tax_id.tax_value for tax_id in response.context["page"].rows]


def test_review_page_lists_failing_and_unreviewed_first(as_manager, manager):
    customer_with(("VAT", FR_VAT), ("ABN", "51 824 753 556"), ("SIREN", "123456789"), ("SIRET", FR_SIRET))
    tax_review.tax_id_approve(tax_id=TaxId.objects.get(tax_value=FR_SIRET), user=manager)

    response = as_manager.get(reverse("taxid-list"))

    assert response.status_code == 200
    assert listed(response) == ["123456789", "51 824 753 556", FR_VAT, FR_SIRET]
    assert b"Bad check digit" in response.content
    assert b"by Mia Manager" in response.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"validation": "invalid"}, ["123456789", "40303265045"], id="invalid"),
        pytest.param({"validation": "unknown"}, ["51 824 753 556"], id="cannot-check"),
        pytest.param({"review": "approved"}, ["DE136695976"], id="approved"),
        pytest.param({"tax": "SIREN"}, ["123456789", FR_SIREN], id="type"),
        pytest.param({"country": "de"}, ["DE136695976"], id="country"),
        pytest.param({"q": "303 265 045"}, ["40303265045", FR_SIREN, FR_VAT], id="search-number-any-spelling"),
        pytest.param({"q": "Dupont"}, ["123456789"], id="search-customer-name"),
        pytest.param({"q": "824-753"}, ["51 824 753 556"], id="search-a-type-we-cannot-check"),
        pytest.param({"q": "dupont sarl"}, ["123456789"], id="every-word-must-match"),
        pytest.param({"q": "acme 303265045"}, ["40303265045", FR_SIREN], id="a-name-and-a-number"),
        pytest.param({"q": "dupont 303265045"}, [], id="a-name-and-another-companys-number"),
        pytest.param({"q": "Zanzibar"}, [], id="a-word-no-customer-name-has"),
        pytest.param({"fixable": "on"}, ["40303265045"], id="with-a-suggested-fix"),
    ],
)
def test_review_page_filters_and_search(as_manager, manager, query, expected):
    customer_with(("SIREN", "123456789"), name="Dupont SARL")
    customer_with(("SIREN", FR_SIREN), ("VAT", "40303265045"), name="Acme France")
    customer_with(("VAT", FR_VAT), ("ABN", "51 824 753 556"), name="Other")
    german = customer_with(("VAT", "DE136695976"), name="Müller GmbH")
    tax_review.tax_id_approve(tax_id=german.tax_ids.get(), user=manager)

    response = as_manager.get(reverse("taxid-list"), query)

    assert listed(response) == expected


def test_review_page_is_paginated_with_a_constant_number_of_queries(as_manager, django_assert_max_num_queries):
    for number in range(30):
        customer_with(("SIREN", "123456789"), ("VAT", FR_VAT), name=f"Customer {number:02d}")

    with django_assert_max_num_queries(8):
        first = as_manager.get(reverse("taxid-list"), {"per_page": 25}, headers=HTMX)
    second = as_manager.get(reverse("taxid-list"), {"per_page": 25, "page": 3})

    assert len(listed(first)) == 25
    assert first.context["page"].has_next
    assert len(listed(second)) == 10
    assert not second.context["page"].has_next
    assert b'id="list-filters"' not in first.content  # the HTMX answer is the results fragment only


def test_approve_from_the_list_answers_the_row_and_records_the_manager(as_manager, manager):
    tax_id = row(customer_with(("VAT", FR_VAT)), FR_VAT)

    response = as_manager.post(
        reverse("taxid-approve", args=[tax_id.pk]),
        {"note": "VIES ok", "tax_value": FR_VAT},
        headers={**HTMX, "HX-Target": f"taxid-{tax_id.pk}"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="taxid-{tax_id.pk}"')
    assert "Approved" in html
    assert "by Mia Manager" in html
    assert "VIES ok" in html
    assert TaxIdReview.objects.get().user == manager


@pytest.mark.parametrize(
    ("next_page", "secure", "landing"),
    [
        ("/tax-ids/?status=unreviewed", False, "/tax-ids/?status=unreviewed"),
        ("https://evil.example/", False, "/tax-ids/"),
        ("//evil.example/", False, "/tax-ids/"),
        ("http://testserver/tax-ids/", True, "/tax-ids/"),  # not from HTTPS down to HTTP
    ],
)
def test_a_decision_without_htmx_goes_back_only_to_our_own_pages(as_manager, next_page, secure, landing):
    tax_id = row(customer_with(("VAT", FR_VAT)), FR_VAT)

    response = as_manager.post(
        reverse("taxid-approve", args=[tax_id.pk]),
        {"note": "ok", "tax_value": FR_VAT, "next": next_page},
        secure=secure,
    )

    assert response.status_code == 302
    assert response["Location"] == landing


def test_reject_without_a_note_shows_the_error_and_changes_nothing(as_manager):
    tax_id = row(customer_with(("VAT", FR_VAT)), FR_VAT)

    response = as_manager.post(
        reverse("taxid-reject", args=[tax_id.pk]), {"note": "", "tax_value": FR_VAT}, headers=HTMX
    )

    assert response.status_code == 422
    assert "the note is required" in response.content.decode()
    assert TaxId.objects.get(pk=tax_id.pk).review_status == Review.UNREVIEWED


def test_bulk_approve_confirms_with_the_count_then_approves_the_filter(as_manager, manager):
    customer_with(("VAT", FR_VAT), ("SIREN", "123456789"), ("SIRET", FR_SIRET))
    customer_with(("VAT", "DE136695976"))
    url = reverse("taxid-bulk-approve")

    asked = as_manager.post(url, {"country": "FR"}, headers=HTMX)
    assert asked.status_code == 200
    assert "Approve 2 tax IDs?" in asked.content.decode()
    assert not TaxId.objects.filter(review_status=Review.APPROVED).exists()

    done = as_manager.post(url, {"country": "FR", "confirmed": "on", "expected": "2"}, headers=HTMX)
    assert "2 tax IDs approved." in done.content.decode()
    assert done["HX-Trigger"] == "list-changed"
    assert set(TaxId.objects.filter(review_status=Review.APPROVED).values_list("tax_value", flat=True)) == {
        FR_VAT,
        FR_SIRET,
    }


def test_bulk_approve_asks_again_when_the_count_changed_since_the_confirmation(as_manager):
    customer_with(("VAT", FR_VAT), ("SIRET", FR_SIRET))

    response = as_manager.post(reverse("taxid-bulk-approve"), {"confirmed": "on", "expected": "1"}, headers=HTMX)

    assert "The list changed since you asked" in response.content.decode()
    assert "Approve 2 tax IDs?" in response.content.decode()
    assert not TaxId.objects.filter(review_status=Review.APPROVED).exists()


def test_csv_export_holds_exactly_the_filtered_rows(as_manager, manager):
    customer_with(("SIREN", "123456789"), ("VAT", FR_VAT), name="=Formula SA")
    customer_with(("VAT", "DE136695976"), name="Müller GmbH")
    tax_review.tax_id_reject(tax_id=TaxId.objects.get(tax_value="123456789"), user=manager, note="typo")

    response = as_manager.get(reverse("taxid-export"), {"country": "FR", "sort": "value"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, *body = rows
    assert header[:4] == ["customer id", "customer name", "tax", "tax_value"]
    assert [(line[1], line[3], line[6], line[8], line[9], line[11]) for line in body] == [
        ("'=Formula SA", "123456789", "invalid", "rejected", manager.username, "typo"),
        ("'=Formula SA", FR_VAT, "valid", "unreviewed", "", ""),
    ]


def test_customer_page_shows_the_tax_id_section_and_its_actions_to_managers_only(client, as_manager):
    customer = customer_with(("SIREN", FR_SIREN), ("VAT", "40303265045"))
    url = reverse("customer-detail", args=[customer.pk])

    page = as_manager.get(url).content.decode()
    assert 'id="tax-ids"' in page
    assert "Unknown country prefix" in page
    assert f"Use {FR_VAT}" in page
    assert "303 265 045" in page  # the formatted SIREN
    assert reverse("taxid-approve", args=[row(customer, FR_SIREN).pk]) in page
    assert "Add a tax ID" in page

    client.force_login(factories.support_user())
    page = client.get(url).content.decode()
    assert "Unknown country prefix" in page
    assert "taxid-approve" not in page
    assert "/approve/" not in page
    assert "Add a tax ID" not in page


def test_customer_page_cross_checks_french_identifiers(as_manager):
    customer = customer_with(("VAT", FR_VAT), ("SIREN", "732829320"))

    page = as_manager.get(reverse("customer-detail", args=[customer.pk])).content.decode()

    assert f"French VAT {FR_VAT} does not match SIREN 732829320" in page


def test_adding_an_invalid_value_shows_the_error_next_to_the_field_and_pushes_nothing(as_manager):
    customer = customer_with(("SIREN", FR_SIREN))

    response = as_manager.post(
        reverse("taxid-create", args=[customer.pk]),
        {"tax": "VAT", "tax_value": "40303265046"},
        headers={**HTMX, "HX-Target": "tax-ids"},
    )

    assert response.status_code == 422
    html = response.content.decode()
    field = html[html.index('id="field-tax_value"') :]
    assert "Not a valid VAT: Unknown country prefix." in field[: field.index("</div>")]
    assert tax_ids_of(customer) == [("SIREN", FR_SIREN)]
    customer.refresh_from_db()
    assert customer.sync_status == SyncStatus.SYNCED


def test_section_edits_answer_the_section_with_the_pending_badge(as_manager, manager):
    customer = customer_with(("SIREN", FR_SIREN), ("VAT", "40303265045"))
    headers = {**HTMX, "HX-Target": "tax-ids"}

    edit_form = as_manager.get(reverse("taxid-update", args=[row(customer, FR_SIREN).pk]), headers=headers)
    assert 'name="tax_value"' in edit_form.content.decode()

    fixed = as_manager.post(reverse("taxid-fix", args=[row(customer, "40303265045").pk]), headers=headers)
    assert fixed.status_code == 200
    html = fixed.content.decode().strip()
    assert html.startswith('<section id="tax-ids"')
    assert FR_VAT in html
    assert f'id="sync-{customer.pk}"' in html
    assert "hx-swap-oob" in html

    moved = as_manager.post(
        reverse("taxid-move", args=[row(customer, FR_VAT).pk]), {"direction": "up"}, headers=headers
    )
    assert moved.status_code == 200
    assert tax_ids_of(customer) == [("VAT", FR_VAT), ("SIREN", FR_SIREN)]

    same = as_manager.post(
        reverse("taxid-update", args=[row(customer, FR_SIREN).pk]),
        {"tax": "SIREN", "tax_value": "303 265 045"},
        headers=headers,
    )
    assert "No changes to save." in same.content.decode()
    assert Change.objects.filter(record_id=customer.pk).count() == 2  # the fix and the move

    updated = as_manager.post(
        reverse("taxid-update", args=[row(customer, FR_SIREN).pk]),
        {"tax": "siren", "tax_value": "732.829.320"},
        headers=headers,
    )
    assert updated.status_code == 200
    assert tax_ids_of(customer) == [("VAT", FR_VAT), ("SIREN", "732829320")]

    removed = as_manager.post(reverse("taxid-delete", args=[row(customer, FR_VAT).pk]), headers=headers)
    assert removed.status_code == 200
    assert tax_ids_of(customer) == [("SIREN", "732829320")]
    assert set(Change.objects.filter(record_id=customer.pk).values_list("user", flat=True)) == {manager.pk}


# ---- who may ------------------------------------------------------------------------------------------------


def review_endpoints(customer: Customer, tax_id: TaxId) -> list[tuple[str, str, dict]]:
    """(method, url, data) of every tax-ID review endpoint."""
    return [
        ("GET", reverse("taxid-list"), {}),
        ("GET", reverse("taxid-export"), {}),
        ("POST", reverse("taxid-bulk-approve"), {"confirmed": "on", "expected": "1"}),
        ("POST", reverse("taxid-approve", args=[tax_id.pk]), {"note": "x"}),
        ("POST", reverse("taxid-reject", args=[tax_id.pk]), {"note": "x"}),
        ("POST", reverse("taxid-fix", args=[tax_id.pk]), {}),
        ("GET", reverse("taxid-update", args=[tax_id.pk]), {}),
        ("POST", reverse("taxid-update", args=[tax_id.pk]), {"tax": "VAT", "tax_value": "DE136695976"}),
        ("POST", reverse("taxid-move", args=[tax_id.pk]), {"direction": "down"}),
        ("POST", reverse("taxid-delete", args=[tax_id.pk]), {}),
        ("GET", reverse("taxid-create", args=[customer.pk]), {}),
        ("POST", reverse("taxid-create", args=[customer.pk]), {"tax": "VAT", "tax_value": "DE136695976"}),
    ]


@pytest.mark.parametrize("make_user", [factories.support_user, factories.sales_ops_user], ids=["support", "sales-ops"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_support_and_sales_ops_get_403_on_every_review_endpoint(client, db, make_user, htmx):
    customer = customer_with(("VAT", "fr 40 303 265 045"), ("SIREN", FR_SIREN))
    tax_id = row(customer, "fr 40 303 265 045")
    client.force_login(make_user())

    for method, url, data in review_endpoints(customer, tax_id):
        response = client.generic(
            method,
            url,
            "&".join(f"{key}={value}" for key, value in data.items()),
            content_type="application/x-www-form-urlencoded",
            headers=HTMX if htmx else {},
        )
        assert response.status_code == 403, f"{method} {url}: {response.status_code}"

    assert tax_ids_of(customer) == [("VAT", "fr 40 303 265 045"), ("SIREN", FR_SIREN)]
    assert TaxId.objects.get(pk=tax_id.pk).review_status == Review.UNREVIEWED
    assert not TaxIdReview.objects.exists()
    assert not Change.objects.exists()


def test_the_menu_shows_tax_ids_to_managers_only(client, db):
    for user, shown in (
        (factories.manager_user(), True),
        (factories.superuser(), True),
        (factories.sales_ops_user(), False),
        (factories.support_user(), False),
    ):
        client.force_login(user)
        assert (reverse("taxid-list") in client.get("/").content.decode()) is shown


def test_the_dashboard_counts_tax_ids_awaiting_review_for_managers(client, manager):
    customer_with(("SIREN", "123456789"), ("VAT", FR_VAT), ("SIRET", FR_SIRET))
    tax_review.tax_id_approve(tax_id=TaxId.objects.get(tax_value=FR_SIRET), user=manager)

    client.force_login(manager)
    page = client.get("/").content.decode()
    assert "Tax IDs awaiting review" in page
    card = page[page.index("Tax IDs awaiting review") :]
    assert '<span class="stat-value">2</span>' in card[:200]
    assert "1 fail validation" in card[:600]

    client.force_login(factories.sales_ops_user())
    assert "Tax IDs awaiting review" not in client.get("/").content.decode()


def test_the_dashboard_counts_tax_ids_awaiting_review_up_to_a_cap(client, manager, monkeypatch):
    monkeypatch.setattr(tax_id_selectors, "REVIEW_COUNT_CAP", 2)
    customer_with(("SIREN", "123456789"), ("VAT", FR_VAT), ("SIRET", FR_SIRET))
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/").content.decode()
    card = page[page.index("Tax IDs awaiting review") :]
    assert '<span class="stat-value">2+</span>' in card[:200]
    assert "1 fail validation" in card[:600]
    counts = [query["sql"] for query in queries.captured_queries if 'FROM "customers_taxid"' in query["sql"]]
    assert counts
    assert all("LIMIT 3" in sql for sql in counts)  # never every tax ID awaiting review


def test_validate_tax_ids_command_recomputes_stale_verdicts_and_keeps_decisions(manager):
    customer = customer_with(("SIREN", "123456789"), ("VAT", FR_VAT))
    tax_review.tax_id_approve(tax_id=row(customer, FR_VAT), user=manager)
    # As after an upgrade of python-stdnum: the stored verdicts no longer match the rules.
    TaxId.objects.update(validation_status=Validation.UNKNOWN, validation_reason="", normalised="")
    out = io.StringIO()

    call_command("validate_tax_ids", stdout=out)

    assert out.getvalue().strip() == "validate_tax_ids: 2 updated; 1 invalid, 0 not checkable, 1 valid"
    siren, vat = customer.tax_ids.order_by("position")
    assert (siren.validation_status, siren.validation_reason, siren.normalised) == (
        Validation.INVALID,
        "Bad check digit",
        "123456789",
    )
    assert (vat.validation_status, vat.review_status) == (Validation.VALID, Review.APPROVED)


@pytest.mark.parametrize(
    ("name", "pk"),
    [
        ("taxid-approve", 7),
        ("taxid-reject", 123456),
        ("taxid-fix", 1),
        ("customer-detail", uuid.UUID("5a8aaeca-1a50-4ec3-aabc-25fa3fe12e47")),
    ],
)
def test_record_url_is_what_reverse_gives(name, pk):
    assert record_path(name, pk) == reverse(name, args=[pk])
    # In a template, each row's URL is its own, though the pattern is looked up once per render.
    other = uuid.uuid4() if isinstance(pk, uuid.UUID) else pk + 1
    rows = Template("{% load backoffice %}{% for pk in pks %}{% record_url name pk %} {% endfor %}")
    rendered = rows.render(Context({"name": name, "pks": [pk, other]}))
    assert rendered.split() == [reverse(name, args=[pk]), reverse(name, args=[other])]
