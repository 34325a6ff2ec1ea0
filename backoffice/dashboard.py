"""The dashboard: what staff see first, drawn from every part (records, changes, tax-ID review, refresh, alerts):
a page over the entity apps, as the push log and the import are."""

from django.http import HttpResponse

from backoffice.accounts import permissions as p
from backoffice.accounts.permissions import staff_view
from backoffice.sync.refresh import last_runs
from backoffice.ui.history import recent_changes
from backoffice.ui.htmx import HtmxHttpRequest, render_page
from backoffice.ui.selectors import alert_board, dashboard_summary
from customers.tax_ids.selectors import review_counts


@staff_view()
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    context = {
        "summary": dashboard_summary(request.user),
        "changes": recent_changes(user=request.user),
        "tax_review": review_counts() if p.can(request.user, p.REVIEW_TAX_IDS) else None,
        "refresh": last_runs(),
        "alerts": alert_board() if p.can(request.user, p.VIEW_ALERTS) else None,
    }
    return render_page(request, "dashboard.html", context)
