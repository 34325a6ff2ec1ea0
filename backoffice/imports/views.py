"""The bulk import pages: upload (with the template download), the job's preview and progress, confirm, errors."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from backoffice.accounts.permissions import staff_view
from backoffice.ui.csv_export import csv_download
from backoffice.ui.htmx import HtmxHttpRequest, render_page
from backoffice.ui.listing import paginate

from . import selectors, services
from .entities import IMPORTABLES, Importable
from .forms import ImportUploadForm, RowFilterForm
from .models import NOT_APPLIED, RowStatus
from .parsing import ImportFileError

PREVIEW_PER_PAGE = 100
SHOWN = {
    "": (RowStatus.CHANGE, RowStatus.ERROR, *NOT_APPLIED, RowStatus.APPLIED),
    "change": (RowStatus.CHANGE, RowStatus.APPLIED),
    "error": NOT_APPLIED,
    "all": tuple(RowStatus.values),
}


def _importable(request: HtmxHttpRequest, resource: str) -> Importable:
    importable = IMPORTABLES[resource]
    if not importable.may_import(request.user):
        raise PermissionDenied
    return importable


@staff_view()
def import_upload(request: HtmxHttpRequest, resource: str) -> HttpResponse:
    """The upload form; a file that cannot be imported is refused here with the reason, and nothing is kept."""
    importable = _importable(request, resource)
    form = ImportUploadForm(request.POST, request.FILES) if request.method == "POST" else ImportUploadForm()
    error, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = services.import_start(resource=resource, user=request.user, upload=form.cleaned_data["file"])
            except ImportFileError as exc:
                error, status = str(exc), 400
            else:
                return redirect("import-detail", pk=job.pk)
        else:
            status = 400
    recent = selectors.recent_jobs(resource=resource, user=request.user)
    context = {
        "importable": importable,
        "kind": importable.kind,
        "form": form,
        "error": error,
        "columns": importable.columns(request.user),
        "recent": recent,
        "template_query": request.GET.urlencode(),
    }
    return render_page(request, "imports/import_upload.html", context, status=status)


@staff_view()
def import_template(request: HtmxHttpRequest, resource: str) -> HttpResponse:
    """The list's rows (with its search and filters) as a CSV to edit and upload back."""
    importable = _importable(request, resource)
    columns, rows = importable.template_rows(request.user, request.GET)
    return csv_download(name=f"{resource}-import", header=columns, rows=rows)


@staff_view()
def import_detail(request: HtmxHttpRequest, pk) -> HttpResponse:
    """The job's page: progress while it runs (its #job partial polls), then the preview or the result."""
    job = selectors.visible_job(pk=pk, user=request.user)
    importable = IMPORTABLES[job.resource]
    filters = RowFilterForm(request.GET)
    filters.is_valid()
    show = filters.cleaned_data.get("show") or ""
    rows = selectors.job_rows(job, statuses=SHOWN[show])
    page = paginate(rows, number=filters.cleaned_data.get("page") or 1, per_page=PREVIEW_PER_PAGE)
    selectors.label_records(page.rows, importable.kind.model)
    context = {
        "job": job,
        "kind": importable.kind,
        "counts": services.import_counts(job),
        "show": show,
        "filters": filters,
        "page": page,
        "can_confirm": job.created_by_id == request.user.pk,
    }
    return render_page(request, "imports/import_detail.html", context, fragment="job")


@require_POST
@staff_view()
def import_apply(request: HtmxHttpRequest, pk) -> HttpResponse:
    """Confirm: the worker applies the changed rows; the page shows its progress."""
    job = selectors.visible_job(pk=pk, user=request.user)
    _importable(request, job.resource)
    services.import_confirm(job=job, user=request.user)
    return redirect(reverse("import-detail", args=[job.pk]))


@staff_view()
def import_errors(request: HtmxHttpRequest, pk) -> HttpResponse:
    """The rows not applied, as uploaded, with why in an `error` column: fix them and upload this file again."""
    job = selectors.visible_job(pk=pk, user=request.user)
    header, rows = services.import_error_rows(job)
    return csv_download(name=f"{job.resource}-import-errors", header=header, rows=rows)
