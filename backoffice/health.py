"""GET /healthz: is the database reachable, is the upstream reachable (JSON, 503 without a database)."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backoffice.qwoty.client import QwotyClient
from backoffice.qwoty.errors import QwotyError


@never_cache
@require_GET
def healthz(request):
    database = _check_database()
    upstream = _check_upstream()
    status = 200 if database["ok"] else 503
    return JsonResponse({"ok": database["ok"], "database": database, "upstream": upstream}, status=status)


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except DatabaseError as exc:
        return {"ok": False, "error": exc.__class__.__name__}


def _check_upstream() -> dict:
    client = QwotyClient(connect_timeout=1.0, read_timeout=2.0)
    try:
        response = client.list_page("catalogs", page=1, per_page=1)
    except QwotyError as exc:
        return {"ok": False, "error": exc.message, "status": exc.status}
    return {"ok": True, "latency_ms": response.duration_ms}
