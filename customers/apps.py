from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self):
        from backoffice.sync import mirror

        from . import search_index, signals  # noqa: F401 (search_index registers its check)
        from .mirror import CustomerMirror

        mirror.register(CustomerMirror())
        signals.connect()
