from django.http import HttpResponse

from .htmx import HtmxHttpRequest, render_page
from .permissions import staff_view
from .selectors import dashboard_summary, recent_changes


@staff_view()
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    context = {
        "summary": dashboard_summary(request.user),
        "changes": recent_changes(user=request.user),
    }
    return render_page(request, "dashboard.html", context)
