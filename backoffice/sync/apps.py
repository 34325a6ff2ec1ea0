from django.apps import AppConfig
from django.conf import settings


class SyncConfig(AppConfig):
    name = "backoffice.sync"
    label = "sync"
    verbose_name = "Qwoty sync"

    def ready(self):
        if settings.TASKS_BACKEND == "rq":
            from django_tasks.signals import task_finished

            from .queue import close_unusable_connections

            # An RQ worker runs job after job in one process, with no request cycle to drop a broken connection.
            task_finished.connect(close_unusable_connections, dispatch_uid="sync.close_unusable_connections")
