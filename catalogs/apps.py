from django.apps import AppConfig


class CatalogsConfig(AppConfig):
    name = "catalogs"

    def ready(self):
        from backoffice.sync import mirror

        from . import search_index, signals  # noqa: F401 (search_index declares its folded columns, checked)
        from .mirror import CatalogMirror

        mirror.register(CatalogMirror())
        signals.connect()
