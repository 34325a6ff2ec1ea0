"""The push pages: what is waiting or failed (with retry), the full push log, and resuming a paused target."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from backoffice.accounts import permissions as p
from backoffice.accounts.permissions import staff_view
from backoffice.records import KINDS
from backoffice.sync import links, push, targets
from backoffice.sync.conflicts import KEEP_LOCAL, KEEP_UPSTREAM, resolve_conflict
from backoffice.sync.http.errors import UpstreamError
from backoffice.sync.models import Target
from backoffice.sync.pull import pull_record
from backoffice.ui.htmx import HtmxHttpRequest, render_page
from backoffice.ui.redirects import redirect_back

from .export import push_log_download
from .forms import PushLogFilter
from .selectors import paused_targets, push_attempt_list, push_queue

EDITORS = (*p.CHANGE_CUSTOMERS, *p.CHANGE_CONTACTS, *p.CHANGE_CATALOGS)


@staff_view(*EDITORS, any_of=True)
def queue(request: HtmxHttpRequest):
    context = {"queue": push_queue(user=request.user), "state": targets.target_state(), "paused": paused_targets()}
    return render_page(request, "sync/queue.html", context)


@require_POST
@staff_view(*EDITORS, any_of=True)
def retry(request: HtmxHttpRequest, resource: str, pk):
    record = _editable_record(request, resource, pk)
    if push.retry(record):
        messages.success(request, f"“{record}” will be pushed to Qwoty again.")
    else:
        messages.info(request, f"“{record}” is not failed; nothing to retry.")
    return _back(request)


@require_POST
@staff_view(*EDITORS, any_of=True)
def refresh(request: HtmxHttpRequest, resource: str, pk):
    """ "Refresh from Qwoty": pull this record now; a field changed on both sides becomes a conflict."""
    record = _editable_record(request, resource, pk)
    try:
        outcome = pull_record(record)
    except UpstreamError as exc:
        messages.error(request, f"Could not refresh from Qwoty: {exc.message}")
    else:
        messages.info(request, REFRESH_MESSAGES[outcome])
    return _back(request)


@require_POST
@staff_view(*EDITORS, any_of=True)
def resolve(request: HtmxHttpRequest, resource: str, pk):
    """Settle a conflict: keep our values (and push them) or take Qwoty's."""
    record = _editable_record(request, resource, pk)
    keep = request.POST.get("keep")
    if keep not in (KEEP_LOCAL, KEEP_UPSTREAM):
        messages.error(request, "Choose whether to keep our values or take Qwoty's.")
        return _back(request)
    if not p.may_change_fields(request.user, resource, record.sync_conflict or {}):
        raise PermissionDenied  # Support may settle a conflict on a contact's details, not on its external ids
    resolve_conflict(record=record, user=request.user, keep=keep)
    side = "Our values are kept and will be pushed" if keep == KEEP_LOCAL else "Qwoty's values are taken"
    messages.success(request, f"Conflict resolved. {side}.")
    return _back(request)


@require_POST
@staff_view(*EDITORS, any_of=True)
def retry_all(request: HtmxHttpRequest):
    resources = [resource for resource, kind in KINDS.items() if kind.can_change(request.user)]
    count = push.retry_all_failed(resources=resources)
    if p.can(request.user, p.CHANGE_CONTACT_LINKS):
        count += links.retry_all_failed()
    messages.success(request, f"{count} failed push{'es' if count != 1 else ''} will be tried again.")
    return _back(request)


@require_POST
@staff_view(*p.VIEW_PUSH_LOG)
def resume(request: HtmxHttpRequest):
    target = request.POST.get("target") or Target.QWOTY
    if target not in Target.values:
        raise Http404
    label = Target(target).label
    if not targets.target_state(target).paused:
        messages.info(request, f"Pushing to {label} was not paused.")
        return _back(request)
    queued = targets.resume(target)
    messages.success(request, f"Pushing to {label} resumed; {queued} pending push{'es' if queued != 1 else ''} queued.")
    return _back(request)


@staff_view(*p.VIEW_PUSH_LOG)
def attempt_list(request: HtmxHttpRequest):
    form = PushLogFilter(request.GET or None)
    page = push_attempt_list(**form.applicable_filters())
    query = request.GET.copy()
    query.pop("before", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render_page(request, "sync/pushattempt_list.html", context, fragment="results")


@staff_view(*p.VIEW_PUSH_LOG)
def attempt_export(request: HtmxHttpRequest, format: str) -> StreamingHttpResponse:
    """The push log as filtered, as CSV or JSON for audits: streamed, bodies included (stored without secrets)."""
    filters = PushLogFilter(request.GET or None).applicable_filters()
    filters.pop("before", None)  # the whole filtered log, not one page of it
    return push_log_download(format=format, filters=filters)


def _editable_record(request: HtmxHttpRequest, resource: str, pk):
    kind = KINDS.get(resource)
    if kind is None:
        raise Http404
    if not kind.can_change(request.user):
        raise PermissionDenied
    return get_object_or_404(kind.model, pk=pk)


REFRESH_MESSAGES = {
    "created": "Imported from Qwoty.",
    "updated": "Refreshed from Qwoty.",
    "unchanged": "Already up to date with Qwoty.",
    "conflict": "Qwoty changed fields you also changed here: choose which values to keep.",
}


def _back(request: HtmxHttpRequest):
    return redirect_back(request, "sync:queue")
