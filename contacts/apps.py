from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self):
        from backoffice.sync import mirror

        from . import signals
        from .mirror import ContactMirror

        mirror.register(ContactMirror())
        signals.connect()
