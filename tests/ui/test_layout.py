"""The layout every page shares: menu by role, the user's name, the push banner, CSRF for HTMX, the dashboard."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backoffice.audit.models import Change
from backoffice.sync.models import SyncStatus, Target, TargetState
from catalogs.models import Catalog
from tests import factories

pytestmark = pytest.mark.django_db


def menu(client, user) -> list[str]:
    client.force_login(user)
    html = client.get(reverse("dashboard")).content.decode()
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)
    return re.findall(r">([^<]+)</a>", nav)


def test_layout_shows_the_users_name(client):
    user = factories.sales_ops_user(first_name="Ada", last_name="Lovelace")
    client.force_login(user)
    assert "Ada Lovelace" in client.get(reverse("dashboard")).content.decode()


def test_banner_says_when_pushing_is_paused_and_why(client):
    TargetState.objects.create(
        target=Target.QWOTY, paused=True, paused_reason="Qwoty refused our token", paused_at=timezone.now()
    )
    client.force_login(factories.support_user())
    html = client.get(reverse("dashboard")).content.decode()
    assert "Pushing to Qwoty is paused." in html
    assert "Qwoty refused our token" in html


def test_banner_says_when_a_target_is_not_answering_and_why(client):
    since = timezone.now()
    TargetState.objects.create(
        target=Target.KOYWE, failing_since=since, failing_reason="Connection refused by koywe.example"
    )
    client.force_login(factories.support_user())
    html = client.get(reverse("dashboard")).content.decode()
    assert "Koywe is unavailable." in html
    assert "Connection refused by koywe.example" in html
    assert "Pushing to Koywe is paused." not in html
    TargetState.objects.filter(target=Target.KOYWE).update(failing_since=None, failing_reason="")
    assert "is unavailable" not in client.get(reverse("dashboard")).content.decode()


def test_banner_counts_failed_records(client):
    for catalog in factories.CatalogFactory.create_batch(2):
        Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.FAILED, sync_error="Invalid")
    factories.ContactFactory()
    client.force_login(factories.sales_ops_user())
    html = client.get(reverse("dashboard")).content.decode()
    assert "2 records failed to push to Qwoty." in html


def test_no_banner_when_all_is_well(client):
    factories.CatalogFactory()
    client.force_login(factories.sales_ops_user())
    html = client.get(reverse("dashboard")).content.decode()
    assert 'class="banner' not in html


def test_dashboard_hides_changes_of_records_the_user_may_not_see(client):
    catalog = factories.CatalogFactory(name="Secret range")
    Change.objects.create(resource="catalogs", record_id=catalog.pk, user=None, changes={"name": ["A", "B"]})
    client.force_login(factories.support_user())
    assert "Secret range" not in client.get(reverse("dashboard")).content.decode()


def test_an_htmx_request_after_the_session_ended_sends_the_page_to_login(client):
    response = client.get(
        reverse("dashboard"), headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/?from=here"}
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/?next=/%3Ffrom%3Dhere"


def test_htmx_posts_carry_the_csrf_token_from_the_body_headers():
    client = Client(enforce_csrf_checks=True)
    client.force_login(factories.sales_ops_user())
    html = client.get(reverse("dashboard")).content.decode()
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', html).group(1)
    logout = reverse("logout")
    assert client.post(logout, headers={"HX-Request": "true"}).status_code == 403
    assert client.post(logout, headers={"HX-Request": "true", "X-CSRFToken": token}).status_code == 302


def test_login_page_logs_in_and_goes_back_to_the_page_asked_for(client):
    user = factories.support_user(username="sue")
    response = client.post(
        reverse("login") + "?next=/accounts/password/",
        {"username": "sue", "password": factories.PASSWORD, "next": "/accounts/password/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_menu_shows_each_role_only_what_it_may_open(client):
    support = menu(client, factories.support_user())
    sales = menu(client, factories.sales_ops_user())
    manager = menu(client, factories.manager_user())
    assert "Catalogs" not in support
    assert {"Customers", "Contacts", "Catalogs"} <= set(sales)
    assert "Push log" not in sales
    assert "Push log" not in support
    assert "Push log" in manager
    assert "Push log" in menu(client, factories.superuser())


def test_dashboard_lists_recent_changes_with_user_and_old_and_new_values(client):
    editor = factories.sales_ops_user(first_name="Grace", last_name="Hopper")
    catalog = factories.CatalogFactory(name="Spring")
    Change.objects.create(resource="catalogs", record_id=catalog.pk, user=editor, changes={"name": ["Old", "Spring"]})
    client.force_login(factories.manager_user())
    html = client.get(reverse("dashboard")).content.decode()
    assert "Grace Hopper" in html
    assert re.search(r"Old</span>.*→.*Spring</span>", html, re.S)
