"""Forms staff fill in the admin: an order correction, a rejected row's repair or dismissal, a file's column mapping."""

from django import forms
from django.conf import settings

from .ingest.values import ValueReadError, parse_date, parse_id, parse_price, parse_quantity
from .models import ImportRun, SourceProfile
from .services.source_profiles import (
    MAPPABLE_FIELDS,
    MAPPING_DOUBLED,
    NAME_MAX_LENGTH,
    NOT_USED,
    field_label,
    mapping_problems,
    suggested_columns,
)

# django-simple-history's change reason column holds 100 characters.
CHANGE_REASON_MAX_LENGTH = 100


class RejectedRowRepairForm(forms.Form):
    """The values of a rejected line, written as in its file and read with the cleaner's rules.

    The run's decimal mark and date order apply, as they did to every other line of the file.
    """

    order_id = forms.CharField(label="Order id", strip=False)
    customer_id = forms.CharField(label="Customer id", strip=False)
    product_id = forms.CharField(label="Product id", strip=False)
    quantity = forms.CharField(strip=False)
    price = forms.CharField(strip=False)
    order_date = forms.CharField(label="Order date", strip=False)
    reason = forms.CharField(
        label="Reason for the change", required=False, max_length=CHANGE_REASON_MAX_LENGTH,
        help_text="Optional. Kept in the order's history.", widget=forms.TextInput(attrs={"size": 60}),
    )

    def __init__(self, *args, run: ImportRun, **kwargs):
        super().__init__(*args, **kwargs)
        self.decimal_mark = run.decimal_mark or settings.INGEST_DEFAULT_DECIMAL_MARK
        self.date_order = run.date_order or settings.INGEST_DEFAULT_DATE_ORDER
        self.fields["price"].help_text = f"Decimal mark {self.decimal_mark!r}, as in the file."
        day_first = self.date_order == "DMY"
        self.fields["order_date"].help_text = (
            f"ISO (2024-01-31), or {'day' if day_first else 'month'} first as in the file "
            f"({'31/01/2024' if day_first else '01/31/2024'})."
        )

    def _read(self, name: str, parse):
        try:
            return parse(self.cleaned_data[name])
        except ValueReadError as error:
            raise forms.ValidationError(error.message, code=error.reason) from None

    def clean_order_id(self):
        return self._read("order_id", lambda raw: parse_id(raw, field="order_id"))

    def clean_customer_id(self):
        return self._read("customer_id", lambda raw: parse_id(raw, field="customer_id"))

    def clean_product_id(self):
        return self._read("product_id", lambda raw: parse_id(raw, field="product_id"))

    def clean_quantity(self):
        return self._read("quantity", lambda raw: parse_quantity(raw, decimal_mark=self.decimal_mark))

    def clean_price(self):
        return self._read("price", lambda raw: parse_price(raw, decimal_mark=self.decimal_mark))

    def clean_order_date(self):
        return self._read("order_date", lambda raw: parse_date(raw, date_order=self.date_order))


class RejectedRowDismissForm(forms.Form):
    dismissal_reason = forms.CharField(
        label="Why is this row dismissed?", max_length=500, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )


class ColumnMappingMixin:
    """Per header position a select of our fields (field column_<position>): which of the file's columns gives what.

    Used by the import preview's mapping form and the source profile's admin page alike.
    """

    def column_fields_add(self, headers: list[str], selected: dict[int, str]) -> None:
        self.headers = list(headers)
        for position, header in enumerate(self.headers):
            if header.strip():  # a column without a name cannot be found by name in the next file
                self.fields[column_field_name(position)] = column_field(header, selected.get(position, ""))

    def column_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith("column_")]

    def columns_clean(self, cleaned_data: dict) -> dict[str, str]:
        """{our field: the file's header name}; errors added to the form for a field chosen twice or one missing."""
        chosen: dict[str, list[int]] = {}
        for position in range(len(self.headers)):
            field = cleaned_data.get(column_field_name(position))
            if field:
                chosen.setdefault(field, []).append(position)
        for field, positions in chosen.items():
            if len(positions) > 1:
                message = MAPPING_DOUBLED.format(
                    label=field_label(field), headers=", ".join(f"“{self.headers[p].strip()}”" for p in positions)
                )
                for position in positions:
                    self.add_error(column_field_name(position), message)
        columns = {field: self.headers[positions[0]].strip() for field, positions in chosen.items()}
        problems = mapping_problems(
            headers=self.headers, columns=columns, allow_guests=bool(cleaned_data.get("allow_guests"))
        )
        for problem in problems:
            self.add_error(None, problem)
        return columns


def column_field_name(position: int) -> str:
    return f"column_{position}"


def column_field(header: str, initial: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=header.strip(), required=False, initial=initial,
        choices=[("", NOT_USED), *((field, field_label(field)) for field in MAPPABLE_FIELDS)],
    )


class SourceProfileMappingForm(ColumnMappingMixin, forms.Form):
    """The import preview's form for a file whose header no source can read: saved as a source profile."""

    name = forms.CharField(
        label="Profile name", max_length=NAME_MAX_LENGTH,
        help_text="Which source these files come from, as staff will know it (a shop, a till, a partner).",
    )
    grain = forms.ChoiceField(
        label="Each row is", choices=SourceProfile.Grain.choices, initial=SourceProfile.Grain.AUTO,
        help_text="“Decide from the file” reads rows as order lines when a line number is mapped or an order "
        "repeats with different products.",
    )
    allow_returns = forms.BooleanField(
        label="Returns allowed", required=False,
        help_text="A negative quantity is a returned quantity (a return line); otherwise such a row is rejected.",
    )
    allow_guests = forms.BooleanField(
        label="Guest checkouts allowed", required=False,
        help_text="A row with no customer id (and no email) is a guest's order; otherwise it is rejected.",
    )

    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.column_fields_add(headers, suggested_columns(headers))

    def clean(self):
        cleaned_data = super().clean()
        cleaned_data["columns"] = self.columns_clean(cleaned_data)
        return cleaned_data

    def profile_values(self) -> dict:
        """The keyword arguments of the services that save the profile."""
        data = self.cleaned_data
        return {
            "name": data["name"], "columns": data["columns"], "grain": data["grain"],
            "allow_returns": data["allow_returns"], "allow_guests": data["allow_guests"],
        }


class SourceProfileAdminForm(ColumnMappingMixin, forms.ModelForm):
    """The profile's admin page: its mapping as the preview's selects, never as raw JSON."""

    class Meta:
        model = SourceProfile
        fields = ["name", "grain", "allow_returns", "allow_guests"]
        labels = {"grain": "Each row is", "allow_returns": "Returns allowed", "allow_guests": "Guest checkouts allowed"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        headers = self.instance.headers or []
        by_name = {header.strip(): position for position, header in reversed(list(enumerate(headers)))}
        selected = {by_name[header]: field for field, header in (self.instance.columns or {}).items() if header in by_name}
        self.column_fields_add(headers, selected)

    def clean(self):
        cleaned_data = super().clean()
        cleaned_data["columns"] = self.columns_clean(cleaned_data)
        return cleaned_data
