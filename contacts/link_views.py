"""A contact's links to the secondary targets (Prioticket, Koywe): the card on its page, the link form,
unlink and send again.

Everyone who may see contacts sees the card; linking, editing, unlinking and sending again need
`contacts.change_contact` (Sales Ops, Managers), which Support's contact-details permission is not.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from backoffice.accounts import permissions as p
from backoffice.accounts.permissions import staff_view
from backoffice.sync.models import TargetLink
from backoffice.ui.htmx import HtmxHttpRequest, render_page, wants_fragment
from backoffice.ui.record_views import get_or_404
from backoffice.ui.redirects import redirect_back

from . import link_selectors, selectors
from .link_forms import LINK_FORMS
from .links import link_delete, link_retry, link_save, new_link
from .models import Contact

MANAGE_LINKS = ("contacts.change_contact",)
CARD = "card"  # the partial of contacts/contact_links.html that HTMX requests swap


def links_context(request: HtmxHttpRequest, contact: Contact, **extra) -> dict:
    """What the card needs: one TargetCard per target, whether it polls, and whether the user may act on links."""
    cards = link_selectors.target_cards(contact)
    return {
        "contact": contact,
        "cards": cards,
        "in_flight": any(card.in_flight for card in cards),
        "can_manage": p.can(request.user, MANAGE_LINKS),
        "links_url": reverse("contact-links", args=[contact.pk]),
        **extra,
    }


@staff_view(*p.VIEW_CONTACTS)
def contact_links(request: HtmxHttpRequest, pk) -> HttpResponse:
    """The card (HTMX: the contact's page loads it, and it polls itself while a push is under way), or a page."""
    contact = get_or_404(selectors.contact_detail, pk)
    return render_page(request, "contacts/contact_links.html", links_context(request, contact), fragment=CARD)


@require_http_methods(["GET", "POST"])
@staff_view(*MANAGE_LINKS)
def contact_link(request: HtmxHttpRequest, pk, target: str) -> HttpResponse:
    """Link the contact to a target, or edit its link; what the target would refuse is shown inline (422)."""
    form_class = _form_class(target)
    contact = get_or_404(selectors.contact_detail, pk)
    link = link_selectors.contact_link(contact, target)
    creating = link is None
    label = link_selectors.target_label(target)
    form = form_class(
        request.POST if request.method == "POST" else None, instance=new_link(contact, target) if creating else link
    )
    if form.is_bound and form.is_valid():
        if not creating and not form.has_changed():
            messages.info(request, "No changes to save.")
            return redirect("contact-detail", contact.pk)
        try:
            link_save(link=form.instance, user=request.user, fields=None if creating else form.changed_data)
        except ValidationError as invalid:
            form.add_error(None, invalid)
        except IntegrityError:
            _clashed(form, label)
        else:
            done = f"Linked to {label}; sending the contact now." if creating else "Link saved; sending again."
            messages.success(request, done)
            return redirect("contact-detail", contact.pk)
    context = {
        "contact": contact,
        "form": form,
        "creating": creating,
        "label": label,
        "detail_url": reverse("contact-detail", args=[contact.pk]),
    }
    return render_page(request, "contacts/link_form.html", context, status=422 if form.is_bound else 200)


@require_POST
@staff_view(*MANAGE_LINKS)
def contact_link_unlink(request: HtmxHttpRequest, pk, target: str) -> HttpResponse:
    """Stop sending the contact to a target; the target keeps its copy as it is."""
    contact, link = _contact_and_link(pk, target)
    link_delete(link=link)
    label = link_selectors.target_label(target)
    message = f"Unlinked from {label}. {label} keeps its copy of the contact; changes here no longer reach it."
    return _card_answer(request, contact, messages.SUCCESS, message)


@require_POST
@staff_view(*MANAGE_LINKS)
def contact_link_retry(request: HtmxHttpRequest, pk, target: str) -> HttpResponse:
    """Send the contact to a target again, even unchanged (its copy there may have been changed meanwhile)."""
    contact, link = _contact_and_link(pk, target)
    label = link_selectors.target_label(target)
    if link_retry(target=target, link=link):
        return _card_answer(request, contact, messages.SUCCESS, f"Sending the contact to {label} again.")
    return _card_answer(request, contact, messages.INFO, f"The contact is already being sent to {label}.")


def _form_class(target: str):
    if target not in LINK_FORMS:
        raise Http404
    return LINK_FORMS[target]


def _contact_and_link(pk, target: str) -> tuple[Contact, TargetLink]:
    contact = get_or_404(selectors.contact_detail, pk)
    link = link_selectors.contact_link(contact, target)
    if link is None:
        raise Http404
    return contact, link


def _clashed(form, label: str) -> None:
    """A link saved by someone else since the form was checked took a unique value: say which, if it is the form's."""
    form.validate_unique()
    if not form.errors:
        form.add_error(None, f"Someone linked this contact to {label} meanwhile: open the contact's page to see it.")


def _card_answer(request: HtmxHttpRequest, contact: Contact, level: int, message: str) -> HttpResponse:
    """The card with the outcome in it (HTMX), or back to the contact's page with the message."""
    if not wants_fragment(request):
        messages.add_message(request, level, message)
        return redirect_back(request, "contact-detail", contact.pk)  # the push page's "retry" comes back to it
    context = links_context(request, contact, message=message, message_level=messages.DEFAULT_TAGS[level])
    return render_page(request, "contacts/contact_links.html", context, fragment=CARD)
