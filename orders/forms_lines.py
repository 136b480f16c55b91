"""Forms for orders made of lines: a line staff correct or add, a rejected line repaired into one.

Apart from orders/forms.py (the upload's and mapping's forms live there) so that each can change alone.
"""

from django import forms

from .forms import CHANGE_REASON_MAX_LENGTH, RejectedRowRepairForm
from .ingest.values import ValueReadError, is_missing, parse_quantity
from .models import Order
from .services.corrections import LINE_TOTAL_NOT_TYPED, line_total_of, line_values_problem

LINE_TOTAL_HELP = (
    "Quantity × unit price, worked out when you save. Typed only on a refund line (no product, quantity 0): "
    "the refunded amount, negative."
)
GUEST_HELP = "Empty: a guest order (no customer)."
REFUND_PRODUCT_HELP = "Empty only on a refund line (quantity 0): a refund of the whole order, on no product."
REFUND_LINE_TOTAL_NEEDED = "A refund line's total is the amount refunded: type it (negative)."
GUESTS_IN_THIS_FILE = "Leave it empty for a guest order: this file has guest orders."


class OrderLineChangeForm(forms.ModelForm):
    """The admin's form for one line of an order, with an optional reason kept in its history.

    Which of its fields are read-only is the admin's choice (the line's identity, a total
    worked out from quantity and price); the values are checked to make a line together.
    """

    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        max_length=CHANGE_REASON_MAX_LENGTH,
        help_text="Optional. Kept in the order's history with who made the change and when.",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = Order
        fields = ["order_id", "line_no", "customer", "product", "quantity", "unit_price", "line_total", "order_date"]
        help_texts = {"customer": GUEST_HELP, "product": REFUND_PRODUCT_HELP, "line_total": LINE_TOTAL_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "line_total" in self.fields:
            self.fields["line_total"].required = False

    def clean(self):
        cleaned = super().clean()
        if {"product", "quantity", "unit_price"} & self.errors.keys():
            return cleaned  # their own errors say why
        product = cleaned["product"] if "product" in self.fields else self.instance.product
        quantity = cleaned["quantity"] if "quantity" in self.fields else self.instance.quantity
        problem = line_values_problem(product=product, quantity=quantity)
        if problem:
            self.add_error("product" if product is None else "quantity", problem)
        unit_price = cleaned["unit_price"] if "unit_price" in self.fields else self.instance.unit_price
        if quantity == 0:
            if "line_total" in self.fields and cleaned.get("line_total") is None:
                self.add_error("line_total", REFUND_LINE_TOTAL_NEEDED)
            return cleaned
        try:
            line_total = line_total_of(quantity=quantity, unit_price=unit_price)
        except ValueError as error:
            self.add_error("quantity", str(error))
            return cleaned
        typed = cleaned.get("line_total")
        if "line_total" in self.fields and typed is not None and typed != line_total:
            self.add_error("line_total", LINE_TOTAL_NOT_TYPED)
        return cleaned


class RejectedRowLineRepairForm(RejectedRowRepairForm):
    """The repair form, with what the row's file allowed: guest orders and returned quantities.

    A file that loaded guest lines (run.guests) or returns (run.returns) was read with that
    policy on, so its rejected line is read with it too; a file that loaded none is read as before.
    """

    def __init__(self, *args, run, **kwargs):
        super().__init__(*args, run=run, **kwargs)
        self.allow_guests = run.guests > 0
        self.allow_returns = run.returns > 0
        if self.allow_guests:
            self.fields["customer_id"].required = False
            self.fields["customer_id"].help_text = GUESTS_IN_THIS_FILE

    def clean_customer_id(self):
        if self.allow_guests and is_missing(self.cleaned_data["customer_id"].strip()):
            return ""
        return super().clean_customer_id()

    def clean_quantity(self):
        try:
            return parse_quantity(
                self.cleaned_data["quantity"], decimal_mark=self.decimal_mark, allow_negative=self.allow_returns
            )
        except ValueReadError as error:
            raise forms.ValidationError(error.message, code=error.reason) from None
