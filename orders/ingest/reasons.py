"""Why a row was rejected: the reason codes stored on RejectedRow, and the messages staff read.

RejectedRow.Reason is built from REASON_LABELS, and the tests import these names
rather than copying the strings.
"""

MISSING_VALUE = "missing_value"
NOT_A_NUMBER = "not_a_number"
FRACTIONAL_QUANTITY = "fractional_quantity"
QUANTITY_NOT_POSITIVE = "quantity_not_positive"
NEGATIVE_PRICE = "negative_price"
PRICE_TOO_PRECISE = "price_too_precise"
AMOUNT_TOO_PRECISE = "amount_too_precise"
NUMBER_TOO_LARGE = "number_too_large"
UNREADABLE_DATE = "unreadable_date"
IMPOSSIBLE_DATE = "impossible_date"
ID_TOO_LONG = "id_too_long"
TOO_FEW_FIELDS = "too_few_fields"
TOO_MANY_FIELDS = "too_many_fields"
UNDECODABLE = "undecodable"
LINE_TOO_LONG = "line_too_long"
NUL_BYTE = "nul_byte"

REASON_LABELS = {
    MISSING_VALUE: "Missing value",
    NOT_A_NUMBER: "Not a number",
    FRACTIONAL_QUANTITY: "Fractional quantity",
    QUANTITY_NOT_POSITIVE: "Quantity not positive",
    NEGATIVE_PRICE: "Negative price",
    PRICE_TOO_PRECISE: "Price has more than 2 decimals",
    AMOUNT_TOO_PRECISE: "Amount has more than 2 decimals",
    NUMBER_TOO_LARGE: "Number too large",
    UNREADABLE_DATE: "Unreadable date",
    IMPOSSIBLE_DATE: "Impossible date",
    ID_TOO_LONG: "Identifier too long",
    TOO_FEW_FIELDS: "Too few fields",
    TOO_MANY_FIELDS: "Too many fields",
    UNDECODABLE: "Undecodable text",
    LINE_TOO_LONG: "Line too long",
    NUL_BYTE: "NUL byte",
}

# Message templates; the values in them are shown as repr() so spaces and odd characters stay visible.
MISSING_MESSAGE = "{field} is {value}"
EMPTY = "empty"
ID_TOO_LONG_MESSAGE = "{field} is longer than {limit} characters"
NOT_A_NUMBER_MESSAGE = "{field} {value!r} is not a number"
WRONG_DECIMAL_MARK_MESSAGE = "{field} {value!r} does not use the file's decimal mark {mark!r}"
FRACTIONAL_QUANTITY_MESSAGE = "quantity {value!r} is not a whole number"
QUANTITY_NOT_POSITIVE_MESSAGE = "quantity {value!r} is not positive"
# Where a negative quantity is a return, only 0 is rejected (reason QUANTITY_NOT_POSITIVE still).
QUANTITY_ZERO_MESSAGE = "quantity {value!r} is zero"
TOO_LARGE_MESSAGE = "{field} {value!r} is too large"
NEGATIVE_PRICE_MESSAGE = "price {value!r} is negative"
PRICE_TOO_PRECISE_MESSAGE = "price {value!r} has more than 2 decimals"
AMOUNT_TOO_PRECISE_MESSAGE = "{field} {value!r} has more than 2 decimals"
IMPOSSIBLE_DATE_MESSAGE = "order_date {value!r} is not a real date"
WRONG_WEEKDAY_MESSAGE = "order_date {value!r} names a weekday that is not its date's ({weekday})"
UNREADABLE_DATE_MESSAGE = "order_date {value!r} is not a date this file's format can read"
TOO_FEW_FIELDS_MESSAGE = "the line has {count} fields; the header has {expected}"
TOO_MANY_FIELDS_MESSAGE = "the line has {count} fields; the header has {expected}"
UNDECODABLE_MESSAGE = "the line holds bytes that are not text in the file's encoding"
LINE_TOO_LONG_MESSAGE = (
    "the line is {length:,} characters long, longer than the {limit:,} a line may be: "
    "it was not read, and only its first {limit:,} characters are kept"
)
NUL_BYTE_MESSAGE = "the line holds a NUL byte (kept as \ufffd), which no text file holds"
