from django.http import HttpResponse

from backoffice.accounts import permissions as p
from backoffice.accounts.permissions import staff_view
from backoffice.ui.htmx import HtmxHttpRequest
from backoffice.ui.list_views import list_page
from backoffice.ui.record_views import detail_page, edit_page, get_or_404
from customers.tax_ids.views import section_context

from . import selectors
from .forms import CustomerForm, CustomerListParams
from .services import customer_update


@staff_view(*p.VIEW_CUSTOMERS)
def customer_list(request: HtmxHttpRequest) -> HttpResponse:
    return list_page(
        request,
        params_class=CustomerListParams,
        selector=selectors.customer_list,
        template="customers/customer_list.html",
        filter_options=lambda: {"segments": selectors.customer_segment_choices()},
    )


@staff_view(*p.VIEW_CUSTOMERS)
def customer_detail(request: HtmxHttpRequest, pk) -> HttpResponse:
    customer = get_or_404(selectors.customer_detail, pk)
    context = {
        "contacts": selectors.customer_contacts(customer),
        "contact_count": selectors.customer_contact_count(customer),
        "can_change_contacts": p.can_change_contacts(request.user),
        **section_context(request, customer),
    }
    return detail_page(request, customer, "customers/customer_detail.html", context)


@staff_view(*p.CHANGE_CUSTOMERS)
def customer_update_view(request: HtmxHttpRequest, pk) -> HttpResponse:
    customer = get_or_404(selectors.customer_detail, pk)

    def save(*, data, expected_version):
        return customer_update(customer=customer, user=request.user, data=data, expected_version=expected_version)

    return edit_page(request, customer, form_class=CustomerForm, save=save)
