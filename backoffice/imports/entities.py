"""What an import can change, per entity: its columns (as the user's role allows), the edit form that checks a
row, the service that saves it, and how a value is written in a cell."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError

from backoffice.accounts import permissions as p
from backoffice.records import CATALOGS, CONTACTS, Kind
from backoffice.ui.listing import ListParams
from catalogs.forms import CatalogForm, CatalogListParams
from catalogs.selectors import catalog_list
from catalogs.services import catalog_update
from contacts.forms import ContactDetailsForm, ContactForm, ContactListParams
from contacts.links import contact_edit_errors
from contacts.selectors import contact_list
from contacts.services import contact_update

ID_COLUMN = "id"
# The record's version when the template was downloaded: a row whose record someone changed since is not applied
# over their change. Optional (blank: no check), like every column but the id.
VERSION_COLUMN = "version"
# The errors file's own column: a fixed errors file can be uploaded as it is.
ERROR_COLUMN = "error"
TRUE, FALSE = ("true", "yes", "1", "y"), ("false", "no", "0", "n")
ROLE_SEPARATORS = re.compile(r"[\s,;|]+")


@dataclass(frozen=True)
class Importable:
    kind: Kind
    full_form: type[forms.ModelForm]
    # What a user with only some change permissions (Support on contacts) may change, and the form for it.
    partial_form: type[forms.ModelForm] | None
    # The list page's filters and selector: the template file holds the rows the list shows.
    list_params: type[ListParams]
    list_selector: Callable
    update: Callable  # the edit form's service: (record, user, data, expected_version) → record
    # What else the service refuses, checked at preview: (record, data) → {field: [messages]}.
    edit_errors: Callable | None = None
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    @property
    def resource(self) -> str:
        return self.kind.resource

    @property
    def model(self):
        return self.kind.model

    def may_import(self, user) -> bool:
        return self.kind.can_change(user)

    def form_class(self, user) -> type[forms.ModelForm]:
        if self.partial_form and not p.may_change_fields(user, self.resource, self.full_form.Meta.fields):
            return self.partial_form
        return self.full_form

    def columns(self, user) -> list[str]:
        """The fields `user` may change by import, in the edit form's order."""
        return list(self.form_class(user).Meta.fields)

    def records(self):
        return self.model.objects.select_related(*self.select_related).prefetch_related(*self.prefetch_related)

    def template_rows(self, user, query) -> tuple[list[str], Iterator[list]]:
        """The template file: the id and the columns `user` may import, for the rows the list shows with `query`."""
        columns = self.columns(user)
        records = self.list_selector(**self.list_params(query).filters()).only("pk", "version", *columns)
        rows = (
            [record.pk, record.version, *(cell_value(getattr(record, name)) for name in columns)]
            for record in records.iterator()
        )
        return [ID_COLUMN, VERSION_COLUMN, *columns], rows

    def save(self, *, record, user, data: dict, expected_version: int):
        return self.update(**{self.kind.singular: record}, user=user, data=data, expected_version=expected_version)


def cell_value(value):
    """A record's value as the template file writes it: roles space-separated, booleans true/false."""
    if isinstance(value, list):
        return " ".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def form_value(field: forms.Field, text: str):
    """A non-blank cell as the edit form's field takes it; raises ValidationError for a boolean it cannot read."""
    if isinstance(field, forms.MultipleChoiceField):
        return [part.lower() for part in ROLE_SEPARATORS.split(text) if part]  # "Signer" as typed is the signer role
    if isinstance(field, forms.BooleanField):
        word = text.lower()
        if word in TRUE or word in FALSE:
            return word in TRUE
        # A checkbox would read any other word as "checked": "no" must not activate a catalog.
        raise ValidationError(f"“{text}” is not true or false.")
    return text


CONTACT_IMPORT = Importable(
    kind=CONTACTS,
    full_form=ContactForm,
    partial_form=ContactDetailsForm,
    list_params=ContactListParams,
    list_selector=contact_list,
    update=contact_update,
    edit_errors=contact_edit_errors,  # what Prioticket or Koywe would refuse, where the contact is linked
    select_related=("customer",),
    prefetch_related=("customer__tax_ids", "prioticket_link", "koywe_link"),
)
CATALOG_IMPORT = Importable(
    kind=CATALOGS,
    full_form=CatalogForm,
    partial_form=None,
    list_params=CatalogListParams,
    list_selector=catalog_list,
    update=catalog_update,
)
IMPORTABLES = {importable.resource: importable for importable in (CONTACT_IMPORT, CATALOG_IMPORT)}
