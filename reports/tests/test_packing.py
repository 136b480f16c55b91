"""Packs of sums (reports/packing.py): narrow columns that read back exact, and sums with signs."""

import numpy as np
import pytest

from reports.packing import Totals, pack, pack_orders, pack_rows, unpack


def test_a_pack_reads_back_every_value_exact_sorted_by_pk():
    rows = np.array([[7, 1, 3, 120], [2, 300, 70_000, 3_000_000_000], [5, 2, 9, 0]])
    columns = unpack(pack_rows(rows))

    assert columns["pk"].tolist() == [2, 5, 7]
    assert columns["orders"].tolist() == [300, 2, 1]
    assert columns["quantity"].tolist() == [70_000, 9, 3]
    assert columns["revenue_cents"].tolist() == [3_000_000_000, 0, 120]  # beyond 32 bits


def test_each_column_takes_the_narrowest_type_that_holds_it():
    small = pack_rows(np.array([[1, 1, 1, 100]]))
    wide = pack_rows(np.array([[1, 1, 1, 2**40]]))

    assert len(wide) - len(small) == 8 - 1  # revenue in 8 bytes instead of 1 (int8 holds 100)


def test_an_empty_pack_and_a_foreign_blob():
    assert unpack(b"")["pk"].tolist() == []
    assert unpack(pack_rows(np.zeros((0, 4))))["revenue_cents"].tolist() == []
    with pytest.raises(ValueError):
        unpack(b"XYZ" + bytes(20))


def test_totals_add_packs_with_signs_and_forget_pks_left_without_orders():
    month = pack_rows(np.array([[1, 2, 5, 1000], [3, 1, 1, 50]]))
    day_outside = pack_rows(np.array([[3, 1, 1, 50]]))
    later = pack_rows(np.array([[9, 1, 2, 10]]))
    totals = Totals.empty()
    for blob, sign in ((month, 1), (day_outside, -1), (later, 1)):
        totals.add(blob, sign)

    rows = totals.rows()
    assert rows["pk"].tolist() == [1, 9]
    assert rows["revenue_cents"].tolist() == [1000, 10]
    assert totals.count() == 2
    assert unpack(totals.pack())["quantity"].tolist() == [5, 2]


def test_leaders_keep_every_tie_at_the_limit():
    totals = Totals.empty()
    totals.add(pack_rows(np.array([[1, 1, 5, 100], [2, 1, 3, 300], [4, 1, 3, 200], [6, 1, 1, 300], [8, 1, 9, 0]])))

    assert sorted(totals.leaders("revenue_cents", 1)) == [(2, 300), (6, 300)]
    assert sorted(totals.leaders("quantity", 2)) == [(1, 5), (8, 9)]
    assert sorted(totals.leaders("quantity", 3)) == [(1, 5), (2, 3), (4, 3), (8, 9)]
    assert len(totals.leaders("quantity", 10)) == 5
    assert totals.leaders("quantity", 0) == []


def test_a_zero_revenue_customer_with_orders_is_still_a_leader():
    totals = Totals.empty()
    totals.add(pack({"pk": np.array([3]), "orders": np.array([1]), "quantity": np.array([1]), "revenue_cents": np.array([0])}))

    assert totals.leaders("revenue_cents", 5) == [(3, 0)]


def test_single_orders_are_summed_per_pk():
    keys = np.array([7, 3, 7, 7, 3])
    columns = unpack(pack_orders(keys, np.array([1, 2, 3, 4, 5]), np.array([100, 200, 300, 400, 3_000_000_000])))

    assert columns["pk"].tolist() == [3, 7]
    assert columns["orders"].tolist() == [2, 3]
    assert columns["quantity"].tolist() == [7, 8]
    assert columns["revenue_cents"].tolist() == [3_000_000_200, 800]
    assert unpack(pack_orders(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)))["pk"].tolist() == []
