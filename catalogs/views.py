from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST

from backoffice.accounts import permissions as p
from backoffice.accounts.permissions import staff_view
from backoffice.records import CATALOGS
from backoffice.sync.edits import UnresolvedConflict
from backoffice.ui.action_views import bulk_response, quick_action_response
from backoffice.ui.bulk import BulkAction
from backoffice.ui.htmx import HtmxHttpRequest
from backoffice.ui.list_views import list_page
from backoffice.ui.record_views import detail_page, edit_page, get_or_404

from . import selectors
from .forms import CatalogActiveForm, CatalogBulkForm, CatalogForm, CatalogListParams
from .services import catalog_set_active, catalog_update, catalogs_set_active


@staff_view(*p.VIEW_CATALOGS)
def catalog_list(request: HtmxHttpRequest) -> HttpResponse:
    return list_page(
        request,
        params_class=CatalogListParams,
        selector=selectors.catalog_list,
        template="catalogs/catalog_list.html",
        kind=CATALOGS,
    )


@staff_view(*p.VIEW_CATALOGS)
def catalog_detail(request: HtmxHttpRequest, pk) -> HttpResponse:
    catalog = get_or_404(selectors.catalog_detail, pk)
    return detail_page(request, catalog, "catalogs/catalog_detail.html")


@staff_view(*p.CHANGE_CATALOGS)
def catalog_update_view(request: HtmxHttpRequest, pk) -> HttpResponse:
    catalog = get_or_404(selectors.catalog_detail, pk)

    def save(*, data, expected_version):
        return catalog_update(catalog=catalog, user=request.user, data=data, expected_version=expected_version)

    return edit_page(request, catalog, form_class=CatalogForm, save=save)


@require_POST
@staff_view(*p.CHANGE_CATALOGS)
def catalog_set_active_view(request: HtmxHttpRequest, pk) -> HttpResponse:
    """The active switch of a list row: answers the row."""
    catalog = get_or_404(selectors.catalog_detail, pk)
    form = CatalogActiveForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("is_active must be true or false")
    status = 200
    try:
        catalog = catalog_set_active(catalog=catalog, user=request.user, is_active=form.cleaned_data["is_active"])
    except UnresolvedConflict as conflict:
        catalog, status = conflict.record, 409
    context = {"catalog": catalog, "can_change": True}
    return quick_action_response(
        request, catalog, "catalogs/catalog_list.html#row", context, status=status, with_badge=False
    )


@require_POST
@staff_view(*p.CHANGE_CATALOGS)
def catalog_bulk(request: HtmxHttpRequest) -> HttpResponse:
    """Activate or deactivate the selected catalogs, after a confirmation that says how many change."""
    form = CatalogBulkForm(request.POST)
    if not form.is_valid():
        return bulk_response(request, kind=CATALOGS, form=form, action=None)
    ids = form.cleaned_data["ids"]
    is_active = form.cleaned_data["action"] == CatalogBulkForm.ACTIVATE
    action = BulkAction(
        label="Activate" if is_active else "Deactivate",
        done="activated" if is_active else "deactivated",
        preview=lambda: selectors.catalog_bulk_preview(ids, is_active=is_active),
        apply=lambda: catalogs_set_active(catalog_ids=ids, user=request.user, is_active=is_active),
    )
    return bulk_response(request, kind=CATALOGS, form=form, action=action)
