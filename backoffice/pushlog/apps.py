from django.apps import AppConfig


class PushLogConfig(AppConfig):
    """The staff's pages of the push engine (backoffice.sync): the queue, the push log, retry, resolve, resume.

    No models: an app only for its admin module, which Django's admin finds in installed apps.
    """

    name = "backoffice.pushlog"
    label = "pushlog"
    verbose_name = "Push log"
