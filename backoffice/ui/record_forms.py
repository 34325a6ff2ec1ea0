"""Edit forms of mirrored records: they carry the version they were opened at (no lost updates)."""

from django import forms

from backoffice.sync import mirror as mirrors

# Qwoty's limit for every text field but a catalog's description.
UPSTREAM_TEXT_LENGTH = 255


class RecordForm(forms.ModelForm):
    """A staff edit; `upstream_data()` is what the entity's update service takes."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # Set by "Save mine anyway" after a stale edit: the version the user has now seen.
    overwrite_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    #: fields that span both columns of the form grid
    wide_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) and not field.required and name in self.upstream_fields:
                field.empty_value = None  # a cleared field is unset upstream (null), not ""
            if name in self.upstream_fields:
                # Each field also carries the value it was opened with, so `changed_upstream_data()` knows what
                # the user changed even when someone else saved the record meanwhile.
                field.show_hidden_initial = True

    @property
    def upstream_fields(self) -> list[str]:
        return [name for name in self._meta.fields if name in mirrors.for_model(self.instance).fields]

    def clean(self):
        cleaned = super().clean()
        for name in self.upstream_fields:
            # Leaving a blank field blank must not turn "" into null: that would push a change nobody made.
            if cleaned.get(name) is None and getattr(self.instance, name) == "":
                cleaned[name] = ""
        return cleaned

    def upstream_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.upstream_fields}

    def changed_upstream_data(self) -> dict:
        """Only the fields the user changed since opening the form: saving never reverts what others saved."""
        return {name: value for name, value in self.upstream_data().items() if name in self.changed_data}

    def changed_since_opened(self, current) -> set[str]:
        """The fields `current` (the record as saved now) holds differently from when the form was opened.

        A post without the opened values (not from our page) counts every field as changed: ask, not guess.
        """
        now = type(self)(instance=current)
        changed = set()
        for name in self.upstream_fields:
            field = self.fields[name]
            opened = field.hidden_widget().value_from_datadict(self.data, self.files, self.add_initial_prefix(name))
            if opened is None or field.has_changed(now.get_initial_for_field(now.fields[name], name), opened):
                changed.add(name)
        return changed

    def expected_version(self) -> int:
        return self.cleaned_data.get("overwrite_version") or self.cleaned_data["version"]


def text_field(label: str, *, required: bool = False, max_length: int = UPSTREAM_TEXT_LENGTH, **kwargs):
    return forms.CharField(label=label, required=required, max_length=max_length, **kwargs)
