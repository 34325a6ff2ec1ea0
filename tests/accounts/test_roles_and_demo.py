"""Staff roles exist after migrate with their permissions; demo logins exist only in development."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from backoffice.accounts import roles

pytestmark = pytest.mark.django_db


def permissions_of(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_migrate_creates_the_three_roles_with_their_permissions():
    for name, wanted in roles.ROLE_PERMISSIONS.items():
        assert permissions_of(name) == set(wanted), name


def test_support_can_fix_contact_details_but_not_edit_customers_or_catalogs():
    support = permissions_of(roles.SUPPORT)
    assert "contacts.change_contact_details" in support
    assert "contacts.change_contact" not in support
    assert not {p for p in support if p.startswith("catalogs.")}
    assert "customers.change_customer" not in support


def test_only_managers_review_tax_ids():
    assert "customers.review_taxid" in permissions_of(roles.MANAGERS)
    assert "customers.review_taxid" not in permissions_of(roles.SALES_OPS)


def test_demo_users_get_one_login_per_role(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo_users", stdout=out)
    call_command("demo_users", stdout=io.StringIO())  # running twice is fine
    User = get_user_model()
    assert User.objects.get(username="sales").groups.get().name == roles.SALES_OPS
    assert User.objects.get(username="manager").groups.get().name == roles.MANAGERS
    assert User.objects.get(username="support").groups.get().name == roles.SUPPORT
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="support").check_password("support-demo-2026")
    assert "support-demo-2026" in out.getvalue()


def test_demo_users_refuse_to_run_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("demo_users", stdout=io.StringIO())
    assert not get_user_model().objects.exists()
