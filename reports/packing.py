"""Packed sums: a span of days' orders, per customer or per product, as a few numpy columns in one blob.

A pack holds, for each customer (or product) with orders in the span, its pk, orders,
quantity and revenue in cents. Each column is stored in the narrowest integer type that
holds it, so a day at 10M orders (21,000 customers) packs into about 230 KB, and a range's
top 5 is a sum of a few packs in memory (reports.selectors) rather than of tens of
thousands of rollup rows in SQL. Pure functions: storing and refreshing packs is
reports.packs.
"""

import struct
from dataclasses import dataclass

import numpy as np

COLUMNS = ("pk", "orders", "quantity", "revenue_cents")
SUMS = COLUMNS[1:]
_MAGIC = b"PK1"
_HEADER = struct.Struct("<3sI4s")  # magic, rows, one type code per column
_TYPES = {"b": np.int8, "h": np.int16, "i": np.int32, "q": np.int64}


def _little(code: str) -> np.dtype:
    return np.dtype(_TYPES[code]).newbyteorder("<")


def _narrowest(values: np.ndarray) -> str:
    if not len(values):
        return "b"
    low, high = int(values.min()), int(values.max())
    for code, kind in _TYPES.items():
        info = np.iinfo(kind)
        if info.min <= low and high <= info.max:
            return code
    raise OverflowError("a sum beyond 64 bits")


def pack(columns: dict[str, np.ndarray]) -> bytes:
    """Pack one row per pk, pks ascending: {column: array} for each of COLUMNS."""
    codes = "".join(_narrowest(columns[name]) for name in COLUMNS)
    parts = [_HEADER.pack(_MAGIC, len(columns["pk"]), codes.encode())]
    for name, code in zip(COLUMNS, codes):
        parts.append(np.asarray(columns[name]).astype(_little(code)).tobytes())
    return b"".join(parts)


def unpack(blob: bytes) -> dict[str, np.ndarray]:
    """The columns of a pack, each as int64 (an empty pack: empty columns)."""
    if not blob:
        return {name: np.zeros(0, dtype=np.int64) for name in COLUMNS}
    magic, rows, codes = _HEADER.unpack_from(blob)
    if magic != _MAGIC:
        raise ValueError("not a pack of sums")
    offset, columns = _HEADER.size, {}
    for name, code in zip(COLUMNS, codes.decode()):
        kind = _little(code)
        columns[name] = np.frombuffer(blob, dtype=kind, count=rows, offset=offset).astype(np.int64)
        offset += rows * kind.itemsize
    return columns


def pack_rows(rows: np.ndarray) -> bytes:
    """Pack an (n, 4) array of (pk, orders, quantity, revenue_cents) rows, one per pk."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, len(COLUMNS))
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    return pack({name: rows[:, index] for index, name in enumerate(COLUMNS)})


def pack_orders(keys: np.ndarray, quantities: np.ndarray, cents: np.ndarray) -> bytes:
    """Pack single orders, one row each (their customer or product pk, quantity, revenue in cents), summed per pk."""
    if not len(keys):
        return pack_rows(np.zeros((0, len(COLUMNS)), dtype=np.int64))
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return pack(
        {
            "pk": keys[starts],
            "orders": np.diff(np.r_[starts, len(keys)]),
            "quantity": np.add.reduceat(quantities[order], starts),
            "revenue_cents": np.add.reduceat(cents[order], starts),
        }
    )


@dataclass
class Totals:
    """Sums per pk over packs added with a sign (+1 or -1: a month less the days outside the range).

    Dense arrays indexed by pk: at 50,000 customers three arrays of 400 KB.
    """

    orders: np.ndarray
    quantity: np.ndarray
    revenue_cents: np.ndarray

    @classmethod
    def empty(cls) -> "Totals":
        return cls(*(np.zeros(0, dtype=np.int64) for _ in SUMS))

    def add(self, blob: bytes, sign: int = 1) -> None:
        columns = unpack(blob)
        pks = columns["pk"]
        if not len(pks):
            return
        size = int(pks.max()) + 1
        if size > len(self.orders):
            for name in SUMS:
                grown = np.zeros(max(size, 2 * len(self.orders)), dtype=np.int64)
                grown[: len(getattr(self, name))] = getattr(self, name)
                setattr(self, name, grown)
        # pks are unique within a pack, so a fancy-indexed += adds each row once.
        for name in SUMS:
            getattr(self, name)[pks] += sign * columns[name]

    def count(self) -> int:
        """How many pks have orders."""
        return int(np.count_nonzero(self.orders > 0))

    def rows(self) -> dict[str, np.ndarray]:
        """The pks with orders and their sums, as columns."""
        pks = np.flatnonzero(self.orders > 0)
        return {"pk": pks, **{name: getattr(self, name)[pks] for name in SUMS}}

    def pack(self) -> bytes:
        return pack(self.rows())

    def leaders(self, metric: str, limit: int) -> list[tuple[int, int]]:
        """(pk, value) of the pks with orders whose value is at least the limit-th highest: ties at the limit included."""
        pks = np.flatnonzero(self.orders > 0)
        if limit <= 0 or not len(pks):
            return []
        values = getattr(self, metric)[pks]
        if len(values) > limit:
            threshold = np.partition(values, len(values) - limit)[len(values) - limit]
            keep = values >= threshold
            pks, values = pks[keep], values[keep]
        return list(zip(pks.tolist(), values.tolist()))
