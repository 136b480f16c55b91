"""The HTTP rules the reports and insights share: money in JSON and the error body."""

import json
from datetime import date
from decimal import Decimal

import pytest

from reports.http import MoneyJSONEncoder, error_response


@pytest.mark.parametrize(
    "money,text",
    [
        (Decimal("0.10"), "0.10"),
        (Decimal("1299"), "1299.00"),
        (Decimal("1299.00"), "1299.00"),
        (Decimal("12345678901.23"), "12345678901.23"),
        (Decimal("-4.50"), "-4.50"),
        (Decimal("0"), "0.00"),
    ],
)
def test_money_is_a_json_number_with_exactly_two_decimals(money, text):
    body = json.dumps([{"customer_id": "C-1", "total_revenue": money}], cls=MoneyJSONEncoder)

    assert body == f'[{{"customer_id": "C-1", "total_revenue": {text}}}]'
    assert json.loads(body, parse_float=Decimal)[0]["total_revenue"] == Decimal(text)


def test_money_alone_and_in_nested_values():
    assert json.dumps(Decimal("1.5"), cls=MoneyJSONEncoder) == "1.50"
    assert json.dumps({"a": [Decimal("2"), {"b": Decimal("3.456")}]}, cls=MoneyJSONEncoder) == '{"a": [2.00, {"b": 3.46}]}'


def test_text_that_looks_like_money_stays_text():
    items = [{"customer_id": "1299.00", "note": '"money-1:1.00"', "day": date(2024, 2, 29)}]

    assert json.loads(json.dumps(items, cls=MoneyJSONEncoder)) == [
        {"customer_id": "1299.00", "note": '"money-1:1.00"', "day": "2024-02-29"}
    ]


def test_the_error_body_names_the_problem_under_detail():
    response = error_response("No.", status=418)

    assert response.status_code == 418
    assert json.loads(response.content) == {"detail": "No."}
