from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self):
        from backoffice.sync import connectors, mirror
        from backoffice.sync.connectors.koywe import KoyweConnector
        from backoffice.sync.connectors.prioticket import PrioticketConnector

        from . import search_index, signals  # noqa: F401 (search_index declares its folded columns, checked)
        from .mirror import ContactMirror

        mirror.register(ContactMirror())
        connectors.register(PrioticketConnector())
        connectors.register(KoyweConnector())
        signals.connect()
