from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST

from backoffice.accounts import permissions as p
from backoffice.accounts.permissions import staff_view
from backoffice.records import CONTACTS
from backoffice.sync.edits import UnresolvedConflict
from backoffice.ui.action_views import bulk_response, quick_action_response
from backoffice.ui.bulk import BulkAction
from backoffice.ui.htmx import HtmxHttpRequest
from backoffice.ui.list_views import list_page
from backoffice.ui.record_views import detail_page, edit_page, get_or_404
from customers.selectors import customer_or_none

from . import selectors
from .forms import ContactBulkForm, ContactDetailsForm, ContactForm, ContactListParams, ContactRoleForm
from .link_views import links_context
from .models import Role
from .services import contact_set_role, contact_update, contacts_set_role


@staff_view(*p.VIEW_CONTACTS)
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    return list_page(
        request,
        params_class=ContactListParams,
        selector=selectors.contact_list,
        template="contacts/contact_list.html",
        kind=CONTACTS,
        filter_options=lambda: {"customer": _customer_filtered(request)},
    )


def _customer_filtered(request: HtmxHttpRequest):
    """The customer whose contacts are listed (a link from its page), to name it above the list."""
    customer_id = ContactListParams(request.GET).filters()["customer"]
    return customer_or_none(customer_id) if customer_id else None


@staff_view(*p.VIEW_CONTACTS)
def contact_detail(request: HtmxHttpRequest, pk) -> HttpResponse:
    contact = get_or_404(selectors.contact_detail, pk)
    return detail_page(request, contact, "contacts/contact_detail.html", lambda: links_context(request, contact))


@staff_view(*p.CHANGE_CONTACTS, any_of=True)
def contact_update_view(request: HtmxHttpRequest, pk) -> HttpResponse:
    contact = get_or_404(selectors.contact_detail, pk)
    # Support changes roles and contact details; the external ids need the full permission.
    form_class = ContactForm if request.user.has_perm("contacts.change_contact") else ContactDetailsForm

    def save(*, data, expected_version):
        return contact_update(contact=contact, user=request.user, data=data, expected_version=expected_version)

    return edit_page(request, contact, form_class=form_class, save=save)


@require_POST
@staff_view(*p.CHANGE_CONTACTS, any_of=True)
def contact_roles(request: HtmxHttpRequest, pk) -> HttpResponse:
    """A role chip clicked: give or take that role, answer the contact's chips."""
    contact = get_or_404(selectors.contact_detail, pk)
    form = ContactRoleForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Unknown role")
    status = 200
    try:
        contact = contact_set_role(
            contact=contact, user=request.user, role=form.cleaned_data["role"], present=form.cleaned_data["present"]
        )
    except UnresolvedConflict as conflict:
        contact, status = conflict.record, 409
    context = {"contact": contact, "can_change": True}
    return quick_action_response(request, contact, "contacts/contact_roles.html", context, status=status)


@require_POST
@staff_view(*p.CHANGE_CONTACTS, any_of=True)
def contact_bulk(request: HtmxHttpRequest) -> HttpResponse:
    """Give or take one role on the selected contacts, after a confirmation that says how many change."""
    form = ContactBulkForm(request.POST)
    if not form.is_valid():
        return bulk_response(request, kind=CONTACTS, form=form, action=None)
    ids, role = form.cleaned_data["ids"], form.cleaned_data["role"]
    present = form.cleaned_data["action"] == ContactBulkForm.ADD
    label = Role(role).label
    action = BulkAction(
        label=f"Give the {label} role to" if present else f"Take the {label} role from",
        done=f"given the {label} role" if present else f"no longer {label}",
        preview=lambda: selectors.contact_bulk_preview(ids, role=role, present=present),
        apply=lambda: contacts_set_role(contact_ids=ids, user=request.user, role=role, present=present),
    )
    return bulk_response(request, kind=CONTACTS, form=form, action=action)
