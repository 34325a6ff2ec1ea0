"""Who may open what: every URL of the URL conf, for every role, → the status it must answer.

The URL list is walked from the URL conf, so a new view without a rule here fails this test.
To add a view, add its URL name to `EXPECTED` (other modules may `EXPECTED.update(...)` before
collection); `admin/` is Django's own and skipped.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLResolver, get_resolver, reverse

from contacts.models import PrioticketLink
from tests import factories

ROLES = ("anonymous", "support", "sales_ops", "manager", "superuser")
LOGIN = "login"  # redirected to the login page: a 302, or HX-Redirect (401) for an HTMX request
REDIRECT = 302  # redirected somewhere else than the login page


@dataclass(frozen=True)
class Rule:
    """One request to a URL and the answer each role gets, in ROLES order."""

    expect: tuple
    method: str = "GET"
    htmx: bool = False
    kwargs: Callable[[SimpleNamespace], dict] = field(default=lambda world: {})
    data: Callable[[SimpleNamespace], dict] = field(default=lambda world: {})

    def __post_init__(self):
        assert len(self.expect) == len(ROLES), self.expect


def page(expect, kwargs=lambda world: {}) -> list[Rule]:
    """A page: the full page and its HTMX fragment answer alike."""
    return [Rule(expect, kwargs=kwargs), Rule(expect, htmx=True, kwargs=kwargs)]


def action(expect, data, kwargs=lambda world: {}) -> list[Rule]:
    """An HTMX endpoint that writes (POST)."""
    return [Rule(expect, method="POST", htmx=True, kwargs=kwargs, data=data)]


EVERYONE = (LOGIN, 200, 200, 200, 200)
PUBLIC = (200, 200, 200, 200, 200)
NOT_SUPPORT = (LOGIN, 403, 200, 200, 200)


def customer(world):
    return {"pk": world.customer.pk}


def contact(world):
    return {"pk": world.contact.pk}


def catalog(world):
    return {"pk": world.catalog.pk}


def customer_form(world):
    return {"version": world.customer.version, "name": "Renamed", "type": "company"}


def contact_form(world):
    return {"version": world.contact.version, "first_name": "Renamed", "role": ["buyer"]}


def catalog_form(world):
    return {"version": world.catalog.version, "name": "Renamed", "is_active": "on"}


EXPECTED: dict[str, list[Rule]] = {
    "healthz": [Rule(PUBLIC)],
    "favicon": [Rule((204,) * 5)],
    "login": [Rule((200, REDIRECT, REDIRECT, REDIRECT, REDIRECT))],
    "logout": [Rule((LOGIN,) * 5, method="POST")],
    "password_change": page(EVERYONE),
    "password_change_done": page(EVERYONE),
    "dashboard": page(EVERYONE),
    "customer-list": page(EVERYONE),
    "customer-detail": page(EVERYONE, customer),
    "customer-update": [*page(NOT_SUPPORT, customer), *action(NOT_SUPPORT, customer_form, customer)],
    "contact-list": page(EVERYONE),
    "contact-detail": page(EVERYONE, contact),
    "contact-update": [*page(EVERYONE, contact), *action(EVERYONE, contact_form, contact)],
    "catalog-list": page(NOT_SUPPORT),
    "catalog-detail": page(NOT_SUPPORT, catalog),
    "catalog-update": [*page(NOT_SUPPORT, catalog), *action(NOT_SUPPORT, catalog_form, catalog)],
    "contact-roles": action(EVERYONE, lambda world: {"role": "legal", "present": "true"}, contact),
    "contact-bulk": action(EVERYONE, lambda world: {"ids": [world.contact.pk], "action": "add_role", "role": "legal"}),
    "catalog-set-active": action(NOT_SUPPORT, lambda world: {"is_active": "false"}, catalog),
    "catalog-bulk": action(NOT_SUPPORT, lambda world: {"ids": [world.catalog.pk], "action": "deactivate"}),
}

# The push pages (backoffice/pushlog/urls.py): editors see what is pending or failed; managers the full log.
_catalog = {"resource": "catalogs"}
_contact = {"resource": "contacts"}
EXPECTED.update(
    {
        "sync:queue": page(EVERYONE),
        "sync:attempt-list": page((LOGIN, 403, 403, 200, 200)),
        "sync:attempt-export": [
            Rule((LOGIN, 403, 403, 200, 200), kwargs=lambda w: {"format": "csv"}),
            Rule((LOGIN, 403, 403, 200, 200), kwargs=lambda w: {"format": "json"}),
        ],
        "sync:retry-all": [Rule((LOGIN,) + (REDIRECT,) * 4, method="POST")],
        "sync:resume": [Rule((LOGIN, 403, 403, REDIRECT, REDIRECT), method="POST")],
        "sync:retry": [
            Rule(
                (LOGIN, 403, REDIRECT, REDIRECT, REDIRECT),
                method="POST",
                kwargs=lambda w: {**_catalog, "pk": w.catalog.pk},
            ),
            Rule((LOGIN,) + (REDIRECT,) * 4, method="POST", kwargs=lambda w: {**_contact, "pk": w.contact.pk}),
        ],
        "sync:refresh": [
            Rule(
                (LOGIN, 403, REDIRECT, REDIRECT, REDIRECT),
                method="POST",
                kwargs=lambda w: {**_catalog, "pk": w.catalog.pk},
            ),
        ],
        "sync:resolve": [
            Rule(
                (LOGIN, 403, REDIRECT, REDIRECT, REDIRECT),
                method="POST",
                kwargs=lambda w: {**_catalog, "pk": w.catalog.pk},
                data=lambda w: {"keep": "local"},
            ),
        ],
    }
)


# A contact's links to the secondary targets (contacts/link_views.py): everyone sees them; linking, editing,
# unlinking and sending again need contacts.change_contact, which Support does not have.
LINK_EDITORS = (LOGIN, 403, REDIRECT, REDIRECT, REDIRECT)
LINK_EDITORS_HTMX = (LOGIN, 403, 200, 200, 200)  # the card, with the outcome in it


def _link(target):
    return lambda world: {"pk": world.contact.pk, "target": target}


EXPECTED.update(
    {
        "contact-links": page(EVERYONE, contact),
        "contact-link": [
            *page(NOT_SUPPORT, _link("koywe")),  # the form to link
            *page(NOT_SUPPORT, _link("prioticket")),  # the form to edit the world's link
            Rule(LINK_EDITORS, method="POST", kwargs=_link("prioticket"), data=lambda w: {"contact_uid": "PT-moved"}),
        ],
        "contact-link-unlink": [
            Rule(LINK_EDITORS, method="POST", kwargs=_link("prioticket")),
            *action(LINK_EDITORS_HTMX, lambda w: {}, _link("prioticket")),
        ],
        "contact-link-retry": [
            Rule(LINK_EDITORS, method="POST", kwargs=_link("prioticket")),
            *action(LINK_EDITORS_HTMX, lambda w: {}, _link("prioticket")),
        ],
    }
)


# The tax-ID review (customers/tax_ids/urls.py): managers and superusers only, everyone else 403.
MANAGERS_ONLY = (LOGIN, 403, 403, 200, 200)


def _tax_id(world):
    return {"pk": world.customer.tax_ids.get().pk}


EXPECTED.update(
    {
        "taxid-list": page(MANAGERS_ONLY),
        "taxid-export": [Rule(MANAGERS_ONLY)],
        "taxid-bulk-approve": action(MANAGERS_ONLY, lambda w: {}),
        "taxid-approve": action(MANAGERS_ONLY, lambda w: {"note": "Checked"}, _tax_id),
        "taxid-reject": action(MANAGERS_ONLY, lambda w: {"note": "Wrong company"}, _tax_id),
        # The world's tax ID has no suggested form: the fix is refused (422), after the role check.
        "taxid-fix": action((LOGIN, 403, 403, 422, 422), lambda w: {}, _tax_id),
        "taxid-update": [
            *page(MANAGERS_ONLY, _tax_id),
            *action(MANAGERS_ONLY, lambda w: {"tax": "SIREN", "tax_value": "732829320"}, _tax_id),
        ],
        "taxid-delete": action(MANAGERS_ONLY, lambda w: {}, _tax_id),
        "taxid-move": action(MANAGERS_ONLY, lambda w: {"direction": "down"}, _tax_id),
        "taxid-create": [
            *page(MANAGERS_ONLY, customer),
            *action(MANAGERS_ONLY, lambda w: {"tax": "SIREN", "tax_value": "732829320"}, customer),
        ],
    }
)


# Bulk import (backoffice/imports/urls.py): whoever may change contacts (Support: their contact details) or
# catalogs. An upload without a file is refused by the form (400) after the role check. A job is its uploader's
# (and superusers' to see): anyone else is told it does not exist.
UPLOAD_WITHOUT_FILE = (LOGIN, 400, 400, 400, 400)
UPLOADER_ONLY = (LOGIN, 404, 200, 404, 200)


def _import_job(world):
    if not hasattr(world, "import_job"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from backoffice.imports.services import import_start

        changes = SimpleUploadedFile("changes.csv", f"id,first_name\n{world.contact.pk},Imported\n".encode())
        world.import_job = import_start(resource="contacts", user=world.users["sales_ops"], upload=changes)
    return {"pk": world.import_job.pk}


EXPECTED.update(
    {
        "contact-import": [*page(EVERYONE), Rule(UPLOAD_WITHOUT_FILE, method="POST")],
        "contact-import-template": [Rule(EVERYONE)],
        "catalog-import": [*page(NOT_SUPPORT), Rule((LOGIN, 403, 400, 400, 400), method="POST")],
        "catalog-import-template": [Rule(NOT_SUPPORT)],
        "import-detail": page(UPLOADER_ONLY, _import_job),
        "import-errors": [Rule(UPLOADER_ONLY, kwargs=_import_job)],
        # Only its uploader confirms an import: the preview was checked against their permissions.
        "import-apply": [Rule((LOGIN, 404, REDIRECT, 404, 403), method="POST", kwargs=_import_job)],
    }
)


def _walk(patterns, namespace: str = "", prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner, route)
        else:
            yield (f"{namespace}{pattern.name}" if pattern.name else f"<unnamed {route}>"), route


URLS = dict(_walk(get_resolver().url_patterns))


def _cases():
    for name in URLS:
        rules = EXPECTED.get(name)
        if not rules:
            yield pytest.param(name, None, None, id=f"{name}-NO-RULE")
            continue
        for rule in rules:
            for index, role in enumerate(ROLES):
                mode = f"{rule.method}{'-htmx' if rule.htmx else ''}"
                yield pytest.param(name, rule, index, id=f"{name}-{mode}-{role}")


@pytest.fixture
def world(db):
    customer = factories.CustomerFactory()
    factories.TaxIdFactory(customer=customer)
    contact = factories.ContactFactory(customer=customer)
    PrioticketLink.objects.create(contact=contact, contact_uid="PT-world")
    return SimpleNamespace(
        users={
            "anonymous": None,
            "support": factories.support_user(),
            "sales_ops": factories.sales_ops_user(),
            "manager": factories.manager_user(),
            "superuser": factories.superuser(),
        },
        customer=customer,
        contact=contact,
        catalog=factories.CatalogFactory(),
    )


@pytest.mark.parametrize(("name", "rule", "role_index"), list(_cases()))
def test_every_url_answers_each_role_as_expected(client, world, name, rule, role_index):
    if rule is None:
        pytest.fail(f"No authorization rule for URL {name!r} ({URLS[name]}): add it to EXPECTED.")
    role = ROLES[role_index]
    expected = rule.expect[role_index]
    if world.users[role]:
        client.force_login(world.users[role])
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/"} if rule.htmx else {}
    url = reverse(name, kwargs=rule.kwargs(world))
    response = client.generic(rule.method, url, _encode(rule.data(world)), headers=headers, **_form_type(rule))

    login_url = resolve_url(settings.LOGIN_URL)
    if expected == LOGIN:
        if rule.htmx and response.status_code == 401:
            assert response["HX-Redirect"].startswith(login_url), response["HX-Redirect"]
        else:
            assert response.status_code == 302, f"{role} {rule.method} {url}: {response.status_code}"
            assert response["Location"].startswith(login_url), response["Location"]
    else:
        assert response.status_code == expected, f"{role} {rule.method} {url}: {response.status_code}"
        if expected == REDIRECT:
            assert not response["Location"].startswith(login_url)


def test_every_rule_names_a_url_that_exists():
    assert set(EXPECTED) - set(URLS) == set()


def _form_type(rule: Rule) -> dict:
    return {"content_type": "application/x-www-form-urlencoded"} if rule.method == "POST" else {}


def _encode(data: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(data, doseq=True)
