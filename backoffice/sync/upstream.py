"""Qwoty as a push target: its facts, said once here, as each secondary target's connector says its own
(`connectors.Connector`). `facts(target)` is either."""

from django.conf import settings
from django.db import models

from . import connectors
from . import mirror as mirrors
from .models import Target


class QwotyTarget:
    target = Target.QWOTY
    rate_setting = "QWOTY_PUSH_RATE_PER_SECOND"  # the setting of its request rate (requests a second, 0: none)
    pushes_links = False  # its rows are the records themselves, one table per entity
    noun = "record"  # what one of its pushes is, in a notice
    resume_hint = "The sweep resumes pushing by itself once the token works again."

    @property
    def rate(self) -> float:
        """Requests a second to Qwoty, shared by all workers; 0 for no limit."""
        return getattr(settings, self.rate_setting)

    def models(self) -> list[type[models.Model]]:
        """The tables of rows pushed to Qwoty: each mirrored entity's."""
        return [mirror.model for mirror in mirrors.all_mirrors()]


QWOTY = QwotyTarget()


def facts(target: str) -> QwotyTarget | connectors.Connector:
    """The target's facts: Qwoty's, or its connector's."""
    return QWOTY if target == QWOTY.target else connectors.get(target)
