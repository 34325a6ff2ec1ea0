"""Django's admin edits mirrored records through the same service: history, version, push."""

import pytest
from django.urls import reverse

from backoffice.models import Change
from backoffice.sync.models import SyncStatus
from catalogs.models import Catalog

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_edit_is_recorded_and_pushed(client, pulled, drain, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(admin)
    catalog = Catalog.objects.first()
    url = reverse("admin:catalogs_catalog_change", args=[catalog.pk])
    form = {
        "name": "Renamed in admin",
        "api_name": catalog.api_name or "",
        "reference": catalog.reference or "",
        "description": catalog.description or "",
        "is_active": "on" if catalog.is_active else "",
        "id_crm": catalog.id_crm or "",
        "id_erp": catalog.id_erp or "",
        "id_accounting": catalog.id_accounting or "",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    catalog.refresh_from_db()
    assert (catalog.name, catalog.version, catalog.sync_status) == ("Renamed in admin", 2, SyncStatus.PENDING)
    assert Change.objects.get(record_id=catalog.pk).user == admin
    drain()
    assert [p["body"] for p in pulled.received("PATCH")] == [{"name": "Renamed in admin"}]
