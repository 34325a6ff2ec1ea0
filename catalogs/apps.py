from django.apps import AppConfig


class CatalogsConfig(AppConfig):
    name = "catalogs"

    def ready(self):
        from backoffice.sync import mirror

        from . import signals
        from .mirror import CatalogMirror

        mirror.register(CatalogMirror())
        signals.connect()
