"""The tax-ID review: the managers' worklist, review decisions, edits of a customer's tax IDs, CSV export.

Every endpoint requires `customers.review_taxid` (Managers, superusers); edits also need the matching
tax-ID and customer permissions (customers/tax_ids/permissions.py). A decision answers the row it came from
(the worklist) or the tax-ID section of the customer's page, whichever the HTMX request targets; without HTMX
it redirects back.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from backoffice.accounts import permissions as p
from backoffice.accounts.permissions import staff_view
from backoffice.sync.edits import UnresolvedConflict
from backoffice.ui.action_views import LIST_CHANGED, quick_action_response
from backoffice.ui.htmx import HtmxHttpRequest, render_page, wants_fragment
from backoffice.ui.listing import PER_PAGE_CHOICES, paginate
from backoffice.ui.record_views import get_or_404
from backoffice.ui.redirects import is_our_page
from customers.models import Customer, TaxId
from customers.tax_ids import selectors
from customers.tax_ids import services as tax_review
from customers.tax_ids.export import taxid_csv
from customers.tax_ids.forms import BulkApproveForm, MoveForm, ReviewForm, TaxIdForm, TaxIdListParams
from customers.tax_ids.permissions import ADD, CHANGE, DELETE, REVIEW

SECTION = "tax-ids"  # id of the tax-ID section on the customer's page
CONFLICT = "Nothing was changed: this customer is in conflict with Qwoty. Settle the conflict on its page first."
GONE = "Nothing was changed: this tax ID is no longer on the customer (someone changed the list meanwhile)."


# ---- the worklist ---------------------------------------------------------------------------------


@staff_view(*REVIEW)
def taxid_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every tax ID with its validation and review, failing ones first; filter, search, decide, export."""
    params = TaxIdListParams(request.GET)
    values = params.values()
    page = paginate(selectors.taxid_list(**params.filters()), number=values["page"], per_page=values["per_page"])
    selectors.with_cross_checks(page.rows)
    context = {
        "params": params,
        "page": page,
        "sort": values["sort"],
        "filtering": params.is_filtering(),
        "per_page_choices": PER_PAGE_CHOICES,
        "filter_pairs": _filter_pairs(params),  # bulk approval posts the same filter
        "filter_options": selectors.filter_choices(tax=values["tax"]),
    }
    return render_page(request, "customers/taxid_list.html", context, fragment="results")


@require_POST
@staff_view(*REVIEW)
def taxid_approve(request: HtmxHttpRequest, pk) -> HttpResponse:
    return _decide(request, pk, tax_review.tax_id_approve, done="Approved")


@require_POST
@staff_view(*REVIEW)
def taxid_reject(request: HtmxHttpRequest, pk) -> HttpResponse:
    return _decide(request, pk, tax_review.tax_id_reject, done="Rejected")


def _decide(request: HtmxHttpRequest, pk, service, *, done: str) -> HttpResponse:
    tax_id = get_or_404(selectors.taxid_detail, pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _answer(request, tax_id, status=422, form=form, error="Check the note.")
    try:
        tax_id = service(
            tax_id=tax_id, user=request.user, note=form.cleaned_data["note"], expected_value=form.expected_value()
        )
    except ValidationError as invalid:
        form.add_error(None, invalid)
        return _answer(request, tax_id, status=422, form=form, error=" ".join(invalid.messages))
    except tax_review.TaxIdChanged as changed:
        return _answer(request, changed.tax_id, status=409, error=str(changed))
    return _answer(request, tax_id, message=f"{done}: {tax_id.tax} {tax_id.tax_value}.")


@require_POST
@staff_view(*CHANGE)
def taxid_fix(request: HtmxHttpRequest, pk) -> HttpResponse:
    """Replace the value by its suggested normal form, in one click; the customer is pushed with the new list."""
    tax_id = get_or_404(selectors.taxid_detail, pk)
    try:
        fixed = tax_review.tax_id_fix(tax_id=tax_id, user=request.user)
    except ValidationError as invalid:
        return _answer(request, tax_id, status=422, error=" ".join(invalid.messages))
    except UnresolvedConflict:
        return _answer(request, tax_id, status=409, error=CONFLICT)
    except TaxId.DoesNotExist:
        return _answer(request, tax_id, status=409, error=GONE)
    fixed = selectors.taxid_detail(fixed.pk)
    return _answer(request, fixed, message=f"Now {fixed.tax} {fixed.tax_value}: sent to Qwoty.", edited=True)


@require_POST
@staff_view(*REVIEW)
def taxid_bulk_approve(request: HtmxHttpRequest) -> HttpResponse:
    """Approve every tax ID of the current filter that passes validation, after a confirmation with the count."""
    params = TaxIdListParams(request.POST)
    filters = params.filters()
    queryset = selectors.taxid_list(**filters)
    form = BulkApproveForm(request.POST)
    form.is_valid()
    context = {"params": params, "filters": _filter_pairs(params), "list_url": _list_url(params)}
    to_approve = tax_review.passing_awaiting_review(queryset).count()
    expected = form.cleaned_data.get("expected")
    if not form.cleaned_data.get("confirmed") or expected != to_approve:
        context.update(count=to_approve, changed_meanwhile=form.cleaned_data.get("confirmed"))
        return render_page(request, "customers/taxid_confirm.html", context, fragment="confirm")
    approved = tax_review.tax_ids_approve_passing(queryset=queryset, user=request.user)
    message = f"{approved} tax ID{'s' if approved != 1 else ''} approved."
    if not wants_fragment(request):
        messages.success(request, message)
        return redirect(context["list_url"])
    response = render(request, "customers/taxid_confirm.html#done", {"message": message})
    response["HX-Trigger"] = LIST_CHANGED
    return response


@require_http_methods(["GET", "POST"])
@staff_view(*REVIEW)
def taxid_export(request: HtmxHttpRequest) -> StreamingHttpResponse:
    """The list as filtered, as CSV for audits: streamed, so 100,000 rows never sit in memory."""
    params = TaxIdListParams(request.GET if request.method == "GET" else request.POST)
    return taxid_csv(selectors.taxid_list(**params.filters()))


# ---- a customer's tax IDs (its page's section) ------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_view(*ADD)
def taxid_create(request: HtmxHttpRequest, pk) -> HttpResponse:
    """Add a tax ID to a customer; an invalid value is refused with the reason next to the field."""
    customer = _customer_or_404(pk)
    form = TaxIdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = tax_review.tax_id_add(customer=customer, user=request.user, **form.cleaned_data)
        except ValidationError as invalid:
            form.add_error(None, invalid)
        except UnresolvedConflict:
            return _section_answer(request, customer, status=409, error=CONFLICT, add_form=form)
        else:
            return _section_answer(request, customer, message=f"Added {added}: sent to Qwoty.", edited=True)
    status = 422 if form.is_bound else 200
    if wants_fragment(request):
        return _section_answer(request, customer, status=status, add_form=form)
    return _form_page(request, customer, form, status=status)


@require_http_methods(["GET", "POST"])
@staff_view(*CHANGE)
def taxid_update(request: HtmxHttpRequest, pk) -> HttpResponse:
    """Change a tax ID's type or number (refused if invalid); its review starts again."""
    tax_id = get_or_404(selectors.taxid_detail, pk)
    customer = tax_id.customer
    form = TaxIdForm(request.POST or None, initial={"tax": tax_id.tax, "tax_value": tax_id.tax_value})
    if request.method == "POST" and form.is_valid():
        try:
            updated = tax_review.tax_id_update(tax_id=tax_id, user=request.user, **form.cleaned_data)
        except ValidationError as invalid:
            form.add_error(None, invalid)
        except UnresolvedConflict:
            return _section_answer(request, customer, status=409, error=CONFLICT)
        except TaxId.DoesNotExist:
            return _section_answer(request, customer, status=409, error=GONE)
        else:
            if (updated.tax, updated.tax_value) == (tax_id.tax, tax_id.tax_value):
                return _section_answer(request, customer, message="No changes to save.")
            return _section_answer(request, customer, message=f"Saved {updated}: sent to Qwoty.", edited=True)
    status = 422 if form.is_bound else 200
    if wants_fragment(request):
        return _section_answer(request, customer, status=status, editing=tax_id.pk, edit_form=form)
    return _form_page(request, customer, form, status=status, tax_id=tax_id)


@require_POST
@staff_view(*DELETE)
def taxid_delete(request: HtmxHttpRequest, pk) -> HttpResponse:
    """Take a tax ID off its customer (in Qwoty too); its review history stays."""
    tax_id = get_or_404(selectors.taxid_detail, pk)
    try:
        tax_review.tax_id_remove(tax_id=tax_id, user=request.user)
    except UnresolvedConflict:
        return _section_answer(request, tax_id.customer, status=409, error=CONFLICT)
    except TaxId.DoesNotExist:
        return _section_answer(request, tax_id.customer, status=409, error=GONE)
    return _section_answer(request, tax_id.customer, message=f"Removed {tax_id}: sent to Qwoty.", edited=True)


@require_POST
@staff_view(*CHANGE)
def taxid_move(request: HtmxHttpRequest, pk) -> HttpResponse:
    """Move a tax ID up or down its customer's list (Qwoty keeps the order)."""
    tax_id = get_or_404(selectors.taxid_detail, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _section_answer(request, tax_id.customer, status=422, error="Choose up or down.")
    try:
        tax_review.tax_id_move(tax_id=tax_id, user=request.user, offset=form.offset())
    except UnresolvedConflict:
        return _section_answer(request, tax_id.customer, status=409, error=CONFLICT)
    except TaxId.DoesNotExist:
        return _section_answer(request, tax_id.customer, status=409, error=GONE)
    return _section_answer(request, tax_id.customer, edited=True)


# ---- answers ------------------------------------------------------------------------------------


def section_context(request: HtmxHttpRequest, customer: Customer, **extra) -> dict:
    """What customers/taxid_section.html needs, on its own (HTMX answers) or within the customer page."""
    user = request.user
    context = {
        "panel": selectors.customer_tax_id_panel(customer),
        "can_review": p.can(user, REVIEW),
        "can_add_tax_ids": p.can(user, ADD),
        "can_change_tax_ids": p.can(user, CHANGE),
        "can_delete_tax_ids": p.can(user, DELETE),
        "known_types": tax_review.KNOWN_TAX_TYPES,
        **extra,
    }
    if context["can_add_tax_ids"] and not context.get("add_form"):
        context["add_form"] = TaxIdForm()
    return context


def _section_answer(
    request: HtmxHttpRequest, customer: Customer, *, status: int = 200, edited: bool = False, **extra
) -> HttpResponse:
    """The customer's tax-ID section (HTMX), or back to the customer's page with the message."""
    if not wants_fragment(request):
        if extra.get("error"):
            messages.error(request, extra["error"])
        elif extra.get("message"):
            messages.success(request, extra["message"])
        return redirect(_next(request) or reverse("customer-detail", args=[customer.pk]))
    customer = selectors.customer_as_now(customer)
    context = section_context(request, customer, **extra)
    # An edit is pushed: the page's sync badge starts polling and its panels refresh.
    return quick_action_response(
        request, customer, "customers/taxid_section.html", context, status=status, with_badge=edited
    )


def _answer(
    request: HtmxHttpRequest,
    tax_id: TaxId,
    *,
    status: int = 200,
    form: ReviewForm | None = None,
    error: str = "",
    message: str = "",
    edited: bool = False,
) -> HttpResponse:
    """After a decision or a fix: the worklist row, or the customer's section, as the request targets."""
    if wants_fragment(request) and request.htmx.target == SECTION:
        return _section_answer(
            request,
            tax_id.customer,
            status=status,
            edited=edited,
            error=error,
            message=message,
            review_form=form,
            review_for=tax_id.pk,
        )
    if not wants_fragment(request):
        if error:
            messages.error(request, error)
        elif message:
            messages.success(request, message)
        return redirect(_next(request) or reverse("taxid-list"))
    tax_id = selectors.taxid_as_now(tax_id)
    selectors.with_cross_checks([tax_id])
    context = {"tax_id": tax_id, "review_form": form, "error": error, "message": message, "edited": edited}
    response = render(request, "customers/taxid_list.html#row", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _form_page(request: HtmxHttpRequest, customer: Customer, form: TaxIdForm, *, status: int, tax_id=None):
    context = {"customer": customer, "form": form, "tax_id": tax_id, "known_types": tax_review.KNOWN_TAX_TYPES}
    return render_page(request, "customers/taxid_form.html", context, status=status)


def _customer_or_404(pk) -> Customer:
    customer = selectors.customer_or_none(pk)
    if customer is None:
        raise Http404
    return customer


def _next(request: HtmxHttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and is_our_page(request, target):
        return target
    return None


def _filter_pairs(params: TaxIdListParams) -> list[tuple[str, str]]:
    """The list's filters as hidden inputs, so the confirmation posts the same filter again."""
    return [(name, value) for name, value in params.filters().items() if value not in ("", None, False)]


def _list_url(params: TaxIdListParams) -> str:
    pairs = [(name, "on" if value is True else value) for name, value in _filter_pairs(params)]
    return f"{reverse('taxid-list')}?{urlencode(pairs)}" if pairs else reverse("taxid-list")
