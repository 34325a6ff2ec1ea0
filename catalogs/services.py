"""Writes on catalogs."""

from django.db import transaction

from backoffice.sync.edits import record_update
from backoffice.sync.models import SyncStatus

from .models import Catalog


def catalog_update(*, catalog: Catalog, user, data: dict, expected_version: int | None = None) -> Catalog:
    return record_update(record=catalog, user=user, data=data, expected_version=expected_version)


def catalog_set_active(*, catalog: Catalog, user, is_active: bool) -> Catalog:
    return record_update(record=catalog, user=user, data={"is_active": is_active})


@transaction.atomic
def catalogs_set_active(*, catalog_ids, user, is_active: bool) -> int:
    """Activate or deactivate many catalogs, all or nothing; returns how many changed.

    Catalogs in conflict with Qwoty are left alone: they wait for staff to choose a side.
    """
    changed = 0
    catalogs = Catalog.objects.select_for_update().filter(pk__in=catalog_ids).exclude(sync_status=SyncStatus.CONFLICT)
    for catalog in catalogs.order_by("pk"):
        if catalog.is_active != is_active:
            catalog_set_active(catalog=catalog, user=user, is_active=is_active)
            changed += 1
    return changed
