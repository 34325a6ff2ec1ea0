"""Who may open which page: enforced on every view and HTMX endpoint, whatever the menus show."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import resolve_url

if TYPE_CHECKING:  # a type only: the pages' HTMX helpers sit above the permissions
    from backoffice.ui.htmx import HtmxHttpRequest


def login_response(request: HtmxHttpRequest) -> HttpResponse:
    """Send an anonymous user to the login page, then back to the page they were on.

    An HTMX request would follow a 302 and swap the login page into a fragment, so it gets
    HX-Redirect instead (401: the fragment was not served), pointing back to the page, not the fragment.
    """
    if request.htmx:
        back_to = request.htmx.current_url_abs_path or request.get_full_path()
        response = redirect_to_login(back_to, resolve_url(settings.LOGIN_URL))
        htmx_response = HttpResponse(status=401)
        htmx_response["HX-Redirect"] = response["Location"]
        return htmx_response
    return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))


def staff_view(*perms: str, any_of: bool = False) -> Callable:
    """Log-in required, then every permission in `perms` (or at least one with `any_of`); 403 otherwise."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HtmxHttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return login_response(request)
            check = any if any_of else all
            if perms and not check(request.user.has_perm(perm) for perm in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# What each role-facing capability requires; views and menus read the same table.
VIEW_CUSTOMERS = ("customers.view_customer",)
CHANGE_CUSTOMERS = ("customers.change_customer",)
VIEW_CONTACTS = ("contacts.view_contact",)
# Support changes a contact's roles and contact details; Sales Ops change everything.
CHANGE_CONTACTS = ("contacts.change_contact", "contacts.change_contact_details")
# The fields of a contact that "change_contact_details" (Support) covers; the rest needs "change_contact".
CONTACT_DETAILS = ("first_name", "last_name", "email", "phone", "role")
# Linking a contact to Prioticket or Koywe, and sending it there again: not Support's contact details.
CHANGE_CONTACT_LINKS = ("contacts.change_contact",)
VIEW_CATALOGS = ("catalogs.view_catalog",)
CHANGE_CATALOGS = ("catalogs.change_catalog",)
VIEW_PUSH_LOG = ("sync.view_pushattempt",)
VIEW_ALERTS = ("sync.view_alert",)
# Managers approve, reject and edit tax IDs on the review page.
REVIEW_TAX_IDS = ("customers.review_taxid",)


def can(user, perms: tuple[str, ...], *, any_of: bool = False) -> bool:
    check = any if any_of else all
    return check(user.has_perm(perm) for perm in perms)


def can_change_contacts(user) -> bool:
    return can(user, CHANGE_CONTACTS, any_of=True)


def can_edit_anything(user) -> bool:
    return can(user, CHANGE_CUSTOMERS) or can_change_contacts(user) or can(user, CHANGE_CATALOGS)


def may_change_fields(user, resource: str, names) -> bool:
    """Whether `user` may change every field in `names` of a `resource` record they may change at all."""
    if resource == "contacts" and not user.has_perm("contacts.change_contact"):
        return set(names) <= set(CONTACT_DETAILS)
    return True
