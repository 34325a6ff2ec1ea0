"""Reads of a contact's links to the secondary targets (Prioticket, Koywe): the card's parts, one link."""

from dataclasses import dataclass

from backoffice.sync import connectors
from backoffice.sync.models import PushAttempt, SyncStatus, TargetLink, TargetState
from backoffice.ui.selectors import record_push_attempts

from .models import Contact

IN_FLIGHT = (SyncStatus.PENDING, SyncStatus.PUSHING)


@dataclass(frozen=True)
class TargetCard:
    """One target's part of the card: its link (None when not linked) and the calls made to it for the contact."""

    target: str
    label: str
    link: TargetLink | None
    attempts: list[PushAttempt]
    paused_reason: str | None  # None unless pushing to this target is paused

    @property
    def in_flight(self) -> bool:
        return self.link is not None and self.link.sync_status in IN_FLIGHT


def target_cards(contact: Contact) -> list[TargetCard]:
    """One card part per target, in the connectors' order: 1 query for the paused targets, then 1-2 per target."""
    targets = connectors.all_connectors()
    paused = dict(
        TargetState.objects.filter(target__in=[c.target for c in targets], paused=True).values_list(
            "target", "paused_reason"
        )
    )
    cards = []
    for connector in targets:
        link = connector.model.objects.filter(contact=contact).first()
        cards.append(
            TargetCard(
                target=connector.target,
                label=connector.label,
                link=link,
                attempts=record_push_attempts(contact, target=connector.target) if link else [],
                paused_reason=paused.get(connector.target),
            )
        )
    return cards


def contact_link(contact: Contact, target: str) -> TargetLink | None:
    """The contact's link to `target`; None if it has none, or if no connector goes by that name."""
    try:
        model = connectors.get(target).model
    except KeyError:
        return None
    return model.objects.filter(contact=contact).first()


def target_label(target: str) -> str:
    """The target's name as staff read it ("Prioticket"); KeyError if no connector goes by that name."""
    return connectors.get(target).label
