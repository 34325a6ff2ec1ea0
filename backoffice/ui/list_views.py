"""The part every list page shares: parse the query string, run the selector, render page or rows."""

from collections.abc import Callable

from django.http import HttpResponse

from backoffice.records import Kind
from backoffice.ui.htmx import HtmxHttpRequest, render_page
from backoffice.ui.listing import PER_PAGE_CHOICES, ListParams, paginate


def list_page(
    request: HtmxHttpRequest,
    *,
    params_class: type[ListParams],
    selector: Callable,
    template: str,
    kind: Kind | None = None,
    filter_options: Callable[[], dict] | None = None,
) -> HttpResponse:
    """A list page, or only its `#results` partial for HTMX (search as you type, sort, paginate).

    `filter_options` gives what only the full page shows (a filter's choices): the template calls
    it when it renders the filters, so a fragment never runs its queries.
    """
    params = params_class(request.GET)
    values = params.values()
    page = paginate(selector(**params.filters()), number=values["page"], per_page=values["per_page"])
    context = {
        "params": params,
        "page": page,
        "sort": values["sort"],
        "filtering": params.is_filtering(),
        "per_page_choices": PER_PAGE_CHOICES,
        # Quick and bulk actions are offered only to those who may make them.
        "can_change": bool(kind and kind.can_change(request.user)),
    }
    if filter_options:
        context["filter_options"] = filter_options
    return render_page(request, template, context, fragment="results")
