"""What saving an edit would send, computed without saving: Qwoty's PATCH and, for a linked contact, each
linked target's PUT, with what each target would refuse. The same functions build the real calls
(`push.diff`, each connector's `call` and `errors`), so the preview is the request, not a guess of it."""

import copy
from dataclasses import dataclass, field

from django.conf import settings

from backoffice.redaction import redact_url
from backoffice.sync.http.errors import UnsafePath

from . import connectors, links
from . import mirror as mirrors
from .push import diff


@dataclass(frozen=True)
class PreviewCall:
    target: str  # "Qwoty", "Prioticket", "Koywe"
    method: str
    url: str
    body: dict | None  # None: nothing would be sent
    reason: str = ""  # why nothing would be sent
    refusals: dict[str, str] = field(default_factory=dict)  # what the target would refuse, by field label


def edit_preview(record, data: dict) -> list[PreviewCall]:
    """The calls saving `data` (field → new value, as the update services take it) on `record` would lead to.

    Qwoty gets the record's fields that differ from its last-synced copy: this edit, and any earlier one
    not sent yet (they go out together).
    """
    edited = copy.copy(record)
    for name, value in data.items():
        setattr(edited, name, value)
    mirror = mirrors.for_model(record)
    path = f"{mirror.resource}/{record.pk}"
    body = diff(mirror, edited)
    calls = [
        PreviewCall(
            "Qwoty",
            "PATCH",
            redact_url(f"{settings.QWOTY_API_URL.rstrip('/')}/{path}"),
            body or None,
            "" if body else "Qwoty already has these values.",
        )
    ]
    if connectors.linkable(record):
        calls += [_link_call(connector, link, edited) for connector, link in connectors.links_of(record)]
    return calls


def _link_call(connector, link, contact) -> PreviewCall:
    try:
        call = connector.call(link, contact)
    except UnsafePath as unsafe:  # a link row holding an id its form refuses: it is never sent
        return PreviewCall(connector.label, "PUT", "", None, unsafe.message)
    url = connector.client().url(call.path)
    unchanged = links.sent(call) == link.last_sent
    labels = {f.name: f.verbose_name for f in (*type(contact)._meta.fields, *type(link)._meta.fields)}
    errors = connector.errors(link, contact)
    refusals = {str(labels.get(name, name)).capitalize(): message for name, message in errors.items()}
    return PreviewCall(
        connector.label,
        call.method,
        redact_url(url),
        None if unchanged else call.body,
        f"{connector.label} already has this contact as it would be sent." if unchanged else "",
        refusals,
    )
