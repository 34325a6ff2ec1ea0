"""GET /healthz: is the database reachable, is the upstream reachable (JSON, 503 without a database).

Anyone may call it (load balancers do, logged out): they get booleans only. The reasons, which name
internal hosts and error classes, are for logged-in staff.
"""

import threading
import time

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backoffice.sync.http.errors import UpstreamError
from backoffice.sync.qwoty import QwotyClient

UPSTREAM_CHECK_SECONDS = 10.0
_lock = threading.Lock()
_last_check: tuple[float, dict] = (float("-inf"), {})


@never_cache
@require_GET
def healthz(request):
    database = _check_database()
    upstream = _check_upstream()
    status = 200 if database["ok"] else 503
    # Without a database no session can be read: booleans too.
    if not (database["ok"] and request.user.is_authenticated):
        database, upstream = {"ok": database["ok"]}, {"ok": upstream["ok"]}
    return JsonResponse({"ok": database["ok"], "database": database, "upstream": upstream}, status=status)


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except DatabaseError as exc:
        return {"ok": False, "error": exc.__class__.__name__}


def _check_upstream() -> dict:
    """Qwoty's answer to a one-row list, at most once per UPSTREAM_CHECK_SECONDS per process: anyone may call
    /healthz, and each call would spend the workspace's rate limit, which our pushes need."""
    global _last_check
    with _lock:
        checked_at, result = _last_check
        if time.monotonic() - checked_at < UPSTREAM_CHECK_SECONDS:
            return result
        result = _ask_upstream()
        _last_check = (time.monotonic(), result)
        return result


def forget_upstream_check() -> None:
    global _last_check
    with _lock:
        _last_check = (float("-inf"), {})


def _ask_upstream() -> dict:
    client = QwotyClient(connect_timeout=1.0, read_timeout=2.0)
    try:
        response = client.list_page("catalogs", page=1, per_page=1)
    except UpstreamError as exc:
        return {"ok": False, "error": exc.message, "status": exc.status}
    return {"ok": True, "latency_ms": response.duration_ms}
