"""Reads on catalogs: the searchable list."""

from django.db.models import Q, QuerySet

from backoffice.ui.bulk import BulkPreview, preview
from backoffice.ui.listing import folded_contains_any, id_match, matching_all, ordering

from . import search_index
from .models import Catalog

# What a list row shows (a SQLite row costs a date parse per datetime column read).
LIST_COLUMNS = ("name", "reference", "api_name", "is_active", "sync_status", "sync_error", "updated_at")
SORT_COLUMNS = {
    "name": ("name",),
    "reference": ("reference", "name"),
    "active": ("is_active", "name"),
    "status": ("sync_status", "name"),
    "updated": ("updated_at",),
}
ACTIVE, INACTIVE = "yes", "no"


def _catalog_matches(term: str) -> Q:
    # Whatever the case and accents: the fields catalogs/search_index.py folds.
    condition = folded_contains_any(term, search_index.FOLDED.columns)
    return condition | id_match(term)


def catalog_list(*, q: str = "", active: str = "", sync_status: str = "", sort: str = "name") -> QuerySet[Catalog]:
    catalogs = Catalog.objects.only(*LIST_COLUMNS)
    if q:
        catalogs = catalogs.filter(matching_all(q, _catalog_matches))
    if active:
        catalogs = catalogs.filter(is_active=active == ACTIVE)
    if sync_status:
        catalogs = catalogs.filter(sync_status=sync_status)
    return catalogs.order_by(*ordering(sort, SORT_COLUMNS))


def catalog_detail(pk) -> Catalog:
    return Catalog.objects.get(pk=pk)


def catalog_bulk_preview(catalog_ids, *, is_active: bool) -> BulkPreview:
    catalogs = Catalog.objects.filter(pk__in=catalog_ids).only("pk", "is_active", "sync_status")
    return preview(catalogs, lambda catalog: catalog.is_active != is_active)
