from backoffice.sync.mirror import Mirror

from .models import Catalog


class CatalogMirror(Mirror):
    resource = "catalogs"
    model = Catalog
    fields = (
        "name",
        "api_name",
        "reference",
        "description",
        "is_active",
        "id_crm",
        "id_erp",
        "id_accounting",
    )
