"""Source profiles: the mapping form's rules, and the service that saves a header's mapping (made, updated, history)."""

import pytest

from orders.forms import SourceProfileMappingForm
from orders.ingest.formats import header_signature
from orders.models import SourceProfile
from orders.services.source_profiles import (
    CREATED_REASON,
    MAPPING_DOUBLED,
    MAPPING_MISSING,
    MAPPING_SAME_NAME,
    UPDATED_REASON,
    SourceProfileError,
    mapping_missing_message,
    profile_headers_summary,
    profile_name_from_file,
    source_profile_create,
    source_profile_update,
    suggested_columns,
)

HEADERS = ["Ref", "Buyer", "Item", "Units", "Each", "When"]
COLUMNS = {
    "order_id": "Ref", "customer_id": "Buyer", "product_id": "Item", "quantity": "Units", "price": "Each",
    "order_date": "When",
}


def mapping_form(chosen: dict[int, str], headers=HEADERS, *, guests=False):
    """The form posted with chosen {position: our field}; name and grain filled in."""
    data = {"name": "Till exports", "grain": "auto", **{f"column_{p}": f for p, f in chosen.items()}}
    if guests:
        data["allow_guests"] = "on"
    return SourceProfileMappingForm(data, headers=headers)


FULL = {0: "order_id", 1: "customer_id", 2: "product_id", 3: "quantity", 4: "price", 5: "order_date"}


# --- The form ----------------------------------------------------------------------------------


def test_the_form_has_a_select_per_header_position_preselected_where_our_aliases_read_it():
    form = SourceProfileMappingForm(headers=HEADERS)

    assert [name for name in form.fields if name.startswith("column_")] == [f"column_{p}" for p in range(6)]
    assert [form[f"column_{p}"].initial for p in range(6)] == ["", "customer_id", "product_id", "quantity", "price", ""]
    assert form.fields["column_0"].label == "Ref"
    assert form.fields["column_0"].choices[0] == ("", "— not used —")
    assert ("order_id", "Order id") in form.fields["column_0"].choices


def test_a_column_without_a_name_gets_no_select():
    form = SourceProfileMappingForm(headers=["Ref", "", "When"])

    assert [name for name in form.fields if name.startswith("column_")] == ["column_0", "column_2"]


def test_a_complete_mapping_is_valid_and_gives_our_field_to_header_name():
    form = mapping_form(FULL)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["columns"] == COLUMNS
    assert form.profile_values() == {
        "name": "Till exports", "columns": COLUMNS, "grain": "auto", "allow_returns": False, "allow_guests": False,
    }


def test_a_field_chosen_twice_is_an_error_on_both_columns():
    form = mapping_form({**FULL, 5: "price"})

    assert not form.is_valid()
    doubled = MAPPING_DOUBLED.format(label="Unit price", headers="“Each”, “When”")
    assert form.errors["column_4"] == [doubled] and form.errors["column_5"] == [doubled]


def test_missing_required_fields_are_listed_with_what_may_stand_in_for_them():
    form = mapping_form({0: "order_id", 3: "quantity"})

    assert not form.is_valid()
    assert form.non_field_errors() == [MAPPING_MISSING.format(missing=(
        "Customer id or Customer email (when the id is blank) (or tick “Guest checkouts allowed”); "
        "Product id (SKU) or Product name (when the id is blank); Unit price or Line total (the line's amount); "
        "Order date"
    ))]


def test_a_product_name_and_a_line_total_stand_in_for_the_id_and_the_price():
    form = mapping_form({**FULL, 2: "product_name", 4: "line_total"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["columns"]["product_name"] == "Item"
    assert "product_id" not in form.cleaned_data["columns"]


def test_no_customer_column_is_valid_only_when_guests_are_allowed():
    chosen = {p: f for p, f in FULL.items() if f != "customer_id"}

    assert not mapping_form(chosen).is_valid()
    assert mapping_form(chosen, guests=True).is_valid()


def test_a_column_named_like_another_cannot_be_mapped():
    headers = ["Ref", "Buyer", "Item", "Units", "Each", "When", "ref"]
    form = mapping_form(FULL, headers)

    assert not form.is_valid()
    assert form.non_field_errors() == [MAPPING_SAME_NAME.format(header="Ref")]


def test_a_value_that_is_none_of_our_fields_is_refused():
    form = mapping_form({**FULL, 0: "discount"})

    assert not form.is_valid() and "column_0" in form.errors


def test_the_grain_must_be_one_of_the_profiles():
    form = mapping_form(FULL)
    form.data = {**form.data, "grain": "basket"}

    assert not form.is_valid() and "grain" in form.errors


@pytest.mark.parametrize(
    "file_name, name",
    [
        ("till_export_2024-03-01.csv", "till_export"),
        ("partner sales 20240301.xlsx", "partner sales"),
        ("orders.csv.gz", "orders"),
        ("2024-03-01.csv", "2024-03-01"),
    ],
)
def test_a_profiles_default_name_is_the_file_name_without_suffix_and_date(file_name, name):
    assert profile_name_from_file(file_name) == name


def test_suggestions_take_the_first_header_for_each_field():
    assert suggested_columns(["Qty", "Units", "Note"]) == {0: "quantity"}


def test_nothing_is_missing_from_a_complete_mapping():
    assert mapping_missing_message(COLUMNS, allow_guests=False) == ""


# --- The service -------------------------------------------------------------------------------

def create(**overrides):
    values = {
        "name": "Till exports", "headers": HEADERS, "columns": COLUMNS, "grain": "line", "allow_returns": True,
        "allow_guests": False, "user": None, "file_name": "till_2024-03-01.csv",
    }
    return source_profile_create(**{**values, **overrides})


@pytest.mark.django_db
def test_create_keeps_the_header_its_signature_the_mapping_and_the_policies(admin_user):
    profile = create(user=admin_user)

    profile.refresh_from_db()
    assert profile.header_signature == header_signature(HEADERS)
    assert (profile.name, profile.headers, profile.columns) == ("Till exports", HEADERS, COLUMNS)
    assert (profile.grain, profile.allow_returns, profile.allow_guests) == ("line", True, False)
    assert profile.created_by == admin_user
    record = profile.history.get()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "+", admin_user, CREATED_REASON.format(file_name="till_2024-03-01.csv"),
    )


@pytest.mark.django_db
def test_the_same_header_again_updates_its_profile_with_a_history_row(admin_user, django_user_model):
    first = create(user=admin_user)
    other = django_user_model.objects.create_user("clerk", password="pw-clerk-1", is_staff=True)
    # The same names in another case and spacing: the same signature.
    second = create(
        name="Till, again", headers=[" REF", "buyer", "Item", "Units", "Each", "When "], grain="order",
        allow_guests=True, user=other, file_name="till_2024-03-02.csv",
        columns={**COLUMNS, "order_id": " REF"},
    )

    assert second.pk == first.pk and SourceProfile.objects.count() == 1
    second.refresh_from_db()
    assert (second.name, second.grain, second.allow_guests, second.columns["order_id"]) == (
        "Till, again", "order", True, "REF",
    )
    assert second.created_by == admin_user  # who made it stays
    assert [(r.history_type, r.history_user, r.history_change_reason) for r in second.history.order_by("history_id")] == [
        ("+", admin_user, CREATED_REASON.format(file_name="till_2024-03-01.csv")),
        ("~", other, UPDATED_REASON.format(file_name="till_2024-03-02.csv")),
    ]


@pytest.mark.django_db
def test_another_header_is_another_profile():
    create()
    create(headers=[*HEADERS, "Notes"], name="With notes")

    assert sorted(SourceProfile.objects.values_list("name", flat=True)) == ["Till exports", "With notes"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "columns, message",
    [
        ({k: v for k, v in COLUMNS.items() if k != "order_date"}, "Choose the file's column for: Order date."),
        ({**COLUMNS, "order_date": "Shipped"}, "'Shipped' is not a column of the file."),
        ({**COLUMNS, "discount": "When"}, "'discount' is none of our fields."),
    ],
)
def test_the_service_refuses_a_mapping_the_form_would(columns, message):
    with pytest.raises(SourceProfileError) as caught:
        create(columns=columns)

    assert message in str(caught.value)
    assert not SourceProfile.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_an_unknown_grain():
    with pytest.raises(SourceProfileError):
        create(grain="basket")
    assert not SourceProfile.objects.exists()


@pytest.mark.django_db
def test_update_changes_the_mapping_but_never_the_header(admin_user):
    profile = create()

    by_line_total = {**{k: v for k, v in COLUMNS.items() if k != "price"}, "line_total": "Each"}
    updated = source_profile_update(
        profile_id=profile.pk, name="Till", columns=by_line_total, grain="order", allow_returns=False,
        allow_guests=False, user=admin_user,
    )

    updated.refresh_from_db()
    assert updated.headers == HEADERS and updated.header_signature == header_signature(HEADERS)
    assert updated.columns["line_total"] == "Each" and "price" not in updated.columns
    assert (updated.name, updated.grain, updated.allow_returns) == ("Till", "order", False)
    assert updated.history.count() == 2


def test_a_long_header_is_summarised_for_the_list():
    assert profile_headers_summary(["a", "", "b"]) == "a, b"
    assert profile_headers_summary([f"c{n}" for n in range(8)]) == "c0, c1, c2, c3, c4, c5, and 2 more"
