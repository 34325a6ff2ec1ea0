from django import forms


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, comma or semicolon separated, first line naming the columns (as in the template).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class RowFilterForm(forms.Form):
    """Which rows of the preview to list."""

    show = forms.ChoiceField(
        required=False,
        choices=[("", "Changes and errors"), ("change", "Changes"), ("error", "Errors"), ("all", "All rows")],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)  # past it, an OFFSET no database takes
