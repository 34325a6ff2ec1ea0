from django import forms

from backoffice.records import KINDS
from backoffice.sync.models import Target

from .selectors import OUTCOMES

OUTCOME_LABELS = {
    "ok": "Succeeded",
    "error": "Any error",
    "invalid": "Rejected (400/422)",
    "unavailable": "Unavailable / timeout",
    "rate_limited": "Rate limited (429)",
    "refused": "Token refused (401/403)",
}


class PushLogFilter(forms.Form):
    target = forms.ChoiceField(required=False, choices=[("", "All targets"), *Target.choices], label="Target")
    resource = forms.ChoiceField(
        required=False, choices=[("", "All entities"), *[(r, r.capitalize()) for r in KINDS]], label="Entity"
    )
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), *[(k, OUTCOME_LABELS[k]) for k in OUTCOMES]], label="Outcome"
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    record_id = forms.UUIDField(required=False, label="Record id")
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def applicable_filters(self) -> dict:
        """The filters given and valid: a bad one shows its error and is left out, the others still apply."""
        self.is_valid()
        return {key: value for key, value in getattr(self, "cleaned_data", {}).items() if value}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] > cleaned["until"]:
            self.add_error("until", "The end date is before the start date.")
        return cleaned
