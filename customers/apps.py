from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self):
        from backoffice.sync import mirror

        from . import signals
        from .mirror import CustomerMirror

        mirror.register(CustomerMirror())
        signals.connect()
