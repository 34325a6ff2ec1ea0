from django.apps import AppConfig
from django.conf import settings

from .hooks import record_changed, target_resumed


class SyncConfig(AppConfig):
    name = "backoffice.sync"
    label = "sync"
    verbose_name = "Qwoty sync"

    def ready(self):
        # Imported once the models are loaded: these modules use them.
        from . import links, push

        # Qwoty's copy of a contact changed (a staff save, a push's answer, a pull): its links have a new version.
        record_changed.connect(links.record_changed, dispatch_uid="sync.links_on_record_changed")
        # A resumed target's pending rows are queued by whoever holds them.
        target_resumed.connect(push.target_resumed, dispatch_uid="sync.push_on_target_resumed")
        target_resumed.connect(links.target_resumed, dispatch_uid="sync.links_on_target_resumed")
        if settings.TASKS_BACKEND == "rq":
            from django_tasks.signals import task_finished

            from .queue import close_unusable_connections

            # An RQ worker runs job after job in one process, with no request cycle to drop a broken connection.
            task_finished.connect(close_unusable_connections, dispatch_uid="sync.close_unusable_connections")
