from django.contrib import admin
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from backoffice.ui.record_admin import MirroredRecordAdmin, MirroredRecordAdminForm
from backoffice.ui.record_forms import UPSTREAM_TEXT_LENGTH
from backoffice.ui.templatetags.backoffice import upstream_value
from backoffice.web_urls import WebURLField, WebURLValidator
from customers.tax_ids import services as tax_review

from .forms import CustomerForm
from .models import Customer, TaxId


class TaxIdInlineFormSet(BaseInlineFormSet):
    """A customer's tax IDs as the admin's inline edits them, saved whole through tax_review as our pages save them.

    Each row carries the values it was opened with, so a list someone else changed meanwhile is refused, not
    reverted; a new or changed value is checked as on our pages (refused if invalid, stored in its normal form).
    """

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for name in ("position", "tax", "tax_value"):
            form.fields[name].show_hidden_initial = True

    def clean(self):
        super().clean()
        self.tax_ids: list[dict] | None = None
        if self.instance._state.adding:
            return
        if not self.edited():
            # The user left the tax IDs alone: a row someone else removed meanwhile (its form fails on its id) is no
            # reason to refuse their save of the customer's other fields.
            for form in self.initial_forms:
                form.errors.pop("id", None)
            return
        seen = self.seen()
        if seen is None:
            raise ValidationError("This form does not say which tax IDs it was opened with: reload the page.")
        try:
            customer = tax_review.tax_ids_as_seen(customer=self.instance, seen=seen)
        except tax_review.TaxIdsChanged as changed:
            now = upstream_value(changed.tax_ids) if changed.tax_ids else "none"
            raise ValidationError(f"{changed} They are now: {now}. Reload the page to edit them.") from None
        if any(self.errors):
            return
        edited, typed = [], []
        for index, form in enumerate(self.forms):
            if self._should_delete_form(form) or not (index < self.initial_form_count() or form.has_changed()):
                continue
            if {"tax", "tax_value"} & set(form.changed_data):
                exclude = None if form.instance._state.adding else form.instance
                try:
                    accepted = tax_review.check_new_value(
                        customer=customer,
                        tax=form.cleaned_data["tax"],
                        tax_value=form.cleaned_data["tax_value"],
                        exclude=exclude,
                    )
                except ValidationError as refused:
                    form.add_error(None, refused)
                    continue
                form.cleaned_data.update(tax=accepted.tax, tax_value=accepted.tax_value)
                typed.append(f"{accepted.tax} {accepted.tax_value}")
            edited.append((form.cleaned_data["position"], index, form))
        if any(self.errors):
            return
        self.tax_ids = [
            {"tax": form.cleaned_data["tax"], "tax_value": form.cleaned_data["tax_value"]}
            for _, _, form in sorted(edited, key=lambda row: row[:2])
        ]
        # check_new_value compares each value with the rows saved; two rows typed alike are compared here.
        twice = sorted({value for value in typed if typed.count(value) > 1})
        if twice:
            raise ValidationError(f"Typed twice: {', '.join(twice)}. A customer has each tax ID once.")

    def edited(self) -> bool:
        """Whether the user changed the list: a row added, marked for deletion, or typed over since the page was
        opened. Not `has_changed()`: that compares with the rows as saved now, which someone else may have changed."""
        for index, form in enumerate(self.forms):
            if index >= self.initial_form_count():
                if form.has_changed():
                    return True
                continue
            if self.can_delete and form.fields["DELETE"].widget.value_from_datadict(
                self.data, self.files, form.add_prefix("DELETE")
            ):
                return True
            for name in ("position", "tax", "tax_value"):
                typed = form.fields[name].widget.value_from_datadict(self.data, self.files, form.add_prefix(name))
                if self._opened(form, name) != typed:
                    return True
        return False

    def _opened(self, form, name: str):
        """A row's value of `name` as the page was opened (its hidden initial input); None if not posted."""
        hidden = form.fields[name].hidden_widget()
        return hidden.value_from_datadict(self.data, self.files, form.add_initial_prefix(name))

    def seen(self) -> list[dict] | None:
        """The tax IDs as the form was opened, in order; None for a post without them (not from the admin's page)."""
        seen = []
        for form in self.initial_forms:
            opened = {name: self._opened(form, name) for name in ("tax", "tax_value")}
            if None in opened.values():
                return None
            seen.append(opened)
        return seen


class TaxIdInline(admin.TabularInline):
    model = TaxId
    formset = TaxIdInlineFormSet
    extra = 0
    fields = ("position", "tax", "tax_value")


class CustomerAdminForm(MirroredRecordAdminForm, CustomerForm):
    """The edit page's fields and checks, with the admin's version handling."""

    # http and https only, as on our pages; the widget's "Currently:" link too (Django's would take ftp).
    logo = WebURLField(
        required=False,
        max_length=UPSTREAM_TEXT_LENGTH,
        assume_scheme="https",
        empty_value=None,
        widget=AdminURLFieldWidget(validator_class=WebURLValidator),
    )


@admin.register(Customer)
class CustomerAdmin(MirroredRecordAdmin):
    form = CustomerAdminForm
    list_display = ("name", "type", "id_crm", "sync_status", "updated_at")
    list_filter = ("type", "sync_status")
    search_fields = ("name", "id_crm", "id_erp", "id_accounting", "tax_ids__tax_value")
    readonly_fields = ("id", "workspace_id", "created_at", "updated_at", "sync_status", "sync_error", "last_synced")
    inlines = [TaxIdInline]

    def save_formset(self, request, form, formset, change):
        if not change or not isinstance(formset, TaxIdInlineFormSet):
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # only what changed, for the admin's log: the rows are written by tax_review
        if formset.tax_ids is not None:
            # One edit of the whole list: version, change history, review resets and the push, as on our pages.
            tax_review.tax_ids_replace(
                customer=form.instance, user=request.user, tax_ids=formset.tax_ids, seen=formset.seen()
            )
