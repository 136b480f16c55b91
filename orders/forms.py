"""Forms staff fill in the admin: an order correction, a rejected row's repair or dismissal."""

from django import forms
from django.conf import settings

from .ingest.values import ValueReadError, parse_date, parse_id, parse_price, parse_quantity
from .models import ImportRun, Order

# django-simple-history's change reason column holds 100 characters.
CHANGE_REASON_MAX_LENGTH = 100


class OrderChangeForm(forms.ModelForm):
    """The admin's order form, with an optional reason kept in the order's history."""

    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        max_length=CHANGE_REASON_MAX_LENGTH,
        help_text="Optional. Kept in the order's history with who made the change and when.",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = Order
        fields = "__all__"


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
