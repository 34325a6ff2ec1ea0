from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self):
        from backoffice.sync import connectors, mirror

        from . import search_index, signals  # noqa: F401 (search_index declares its folded columns, checked)
        from .connectors.koywe import KoyweConnector
        from .connectors.prioticket import PrioticketConnector
        from .mirror import ContactMirror

        mirror.register(ContactMirror())
        connectors.register(PrioticketConnector())
        connectors.register(KoyweConnector())
        signals.connect()
