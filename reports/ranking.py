"""The top customers or products of a range without summing every one: the threshold algorithm over the rollups.

At 10M orders a three-month range is 150,000 month x customer rows, and summing them all
to keep five took 160 ms. Instead (Fagin's threshold algorithm, read in batches):

1. The range is covered by a few **lists**, each read in the order of the metric, `depth`
   rows deep: a whole month of the rollups, through an index on (month, metric); a half
   month, likewise; or a few days of orders added to the range (an edge), summed per
   customer once per request and sorted here. A month the range covers in several parts
   (a half and a few days) is one list: its month, which is at least their sum.
2. Every customer or product seen is summed exactly over the whole range, the days taken
   away included.
3. One not seen has, in each list, at most the value at which that list stopped (0 for a
   list read to its end), so at most their sum: the bound. Every value is at least 0
   (quantities are positive and prices never negative), so days taken away only lower a
   sum and the bound needs none.
4. When the limit-th candidate is strictly above the bound, no one unseen can reach the
   top, ties by id included. Otherwise read deeper; past MAX_DEPTH, sum everything.
"""

import json
from dataclasses import dataclass

from django.db import connection

from .ranges import RangePlan, month_first
from .sums import ENTITY, date_param, edge_sums_sql, fetch

# How deep the lists may be read: a first look at PROBE_DEPTH gives a floor for the
# limit-th value, and the bound at each depth of the grid says how deep to read to settle.
PROBE_DEPTH = 64
DEPTHS = [64, 128, 256, 384, 512, 768, 1024, 1536, 2048]
# A range with days of orders at its ends sums everything: bringing those days' sums
# over (21,000 customers a day at 10M orders) and reading the lists deep enough to settle
# cost more than the sum (measured: 425 ms against 340 ms for three ragged months).
EDGES_IN_ORDER = False
# Past this many lists the bound (a sum of one value per list) is too loose to stop early.
MAX_LISTS = 8


@dataclass(frozen=True)
class Block:
    """A rollup block read as a list: table, its date column, and the block's first day."""

    table: str
    column: str
    day: object


def entity_top_lists(entity: str, plan: RangePlan, *, metrics: list[str], limit: int) -> dict[str, list[tuple[str, int]]] | None:
    """For each metric, the `limit` customers/products of the plan with the highest value, ties by id ascending.

    Return None when reading in order does not pay (no rollup block in the range, too
    many lists, or deeper than the grid): the caller sums everything.
    """
    names = ENTITY[entity]
    block_lists, edge_lists = _lists(plan, names)
    if not (plan.month_starts() or plan.halves) or len(block_lists) + len(edge_lists) > MAX_LISTS:
        return None
    if plan.edges and not EDGES_IN_ORDER:
        return None
    edges = [(_edge_sums(names["id"], edge_from, edge_to), sign) for edge_from, edge_to, sign in plan.edges]
    # An edge read as a list: its customers/products in the order of each metric.
    in_order = {
        (index, metric): sorted(edges[index][0], key=lambda pk, sums=edges[index][0], m=metric: -sums[pk][m])
        for index in edge_lists
        for metric in metrics
    }
    bounds = _bounds(block_lists, edges, edge_lists, in_order, metrics=metrics)

    def totals_at(depth: int) -> dict[int, dict[str, int]]:
        extra = {pk for (_index, _metric), pks in in_order.items() for pk in pks[:depth]}
        return _totals(_block_sums(entity, plan, block_lists, metrics=metrics, depth=depth, extra=extra), edges)

    # A first look: the limit-th value among the candidates seen so far only rises as more
    # are seen, so the first depth whose bound is below it settles the list.
    totals = totals_at(PROBE_DEPTH)
    depth = PROBE_DEPTH
    for metric in metrics:
        values = sorted((sums[metric] for sums in totals.values()), reverse=True)
        floor = values[limit - 1] if len(values) >= limit else None
        needed = next(
            (d for d in DEPTHS if bounds[metric][d][1] or (floor is not None and bounds[metric][d][0] < floor)), None
        )
        if needed is None:
            return None
        depth = max(depth, needed)
    if depth > PROBE_DEPTH:
        totals = totals_at(depth)
    return {metric: _ranked(entity, totals, metric, limit=limit) for metric in metrics}


def _bounds(block_lists, edges, edge_lists, in_order, *, metrics) -> dict[str, dict[int, tuple[int, bool]]]:
    """Per metric and depth of the grid: (the bound on anyone unseen, whether every list is read to its end)."""
    values = {}  # (metric, list) -> {depth: value at that position}
    for (metric_no, list_no, position, value) in _block_values(block_lists, metrics=metrics):
        values.setdefault((metrics[metric_no], list_no), {})[int(position)] = int(value)
    for list_no, index in enumerate(edge_lists, start=len(block_lists)):
        for metric in metrics:
            pks = in_order[(index, metric)]
            values[(metric, list_no)] = {d: edges[index][0][pks[d - 1]][metric] for d in DEPTHS if len(pks) >= d}
    lists = len(block_lists) + len(edge_lists)
    bounds = {}
    for metric in metrics:
        bounds[metric] = {}
        for depth in DEPTHS:
            at_depth = [values.get((metric, list_no), {}).get(depth) for list_no in range(lists)]
            bounds[metric][depth] = (sum(v for v in at_depth if v is not None), all(v is None for v in at_depth))
    return bounds


def _block_values(block_lists: list[Block], *, metrics: list[str]) -> list[tuple]:
    """The value at each depth of the grid in each block list: (metric, list, depth, value)."""
    selects, params = [], []
    for metric_no, metric in enumerate(metrics):
        for list_no, block in enumerate(block_lists):
            selects.append(
                f"SELECT {metric_no} AS metric, {list_no} AS list, n, v FROM"
                f" (SELECT v, row_number() OVER (ORDER BY v DESC) AS n FROM"
                f" (SELECT {metric} AS v FROM {block.table} WHERE {block.column} = %s ORDER BY {metric} DESC LIMIT {DEPTHS[-1]}) l) ranked"
                f" WHERE n IN ({', '.join(str(d) for d in DEPTHS)})"
            )
            params.append(date_param(block.day))
    return fetch(" UNION ALL ".join(selects), params)


def _ranked(entity: str, totals: dict[int, dict[str, int]], metric: str, *, limit: int) -> list[tuple[str, int]]:
    """The top `limit` of the totals by metric, ties by the customer's/product's id (read for the tied only)."""
    values = sorted((sums[metric] for sums in totals.values()), reverse=True)
    if not values:
        return []
    floor = values[min(limit, len(values)) - 1]
    keep = {pk: sums[metric] for pk, sums in totals.items() if sums[metric] >= floor}
    names = ENTITY[entity]
    ids = dict(
        fetch(
            f"SELECT id, {names['id']} FROM {names['table']} WHERE id IN ({', '.join(['%s'] * len(keep))})",
            list(keep),
        )
    )
    return sorted(((ids[pk], value) for pk, value in keep.items()), key=lambda pair: (-pair[1], pair[0]))[:limit]


def _lists(plan: RangePlan, names: dict) -> tuple[list[Block], list[int]]:
    """The lists that bound the range: rollup blocks, and the indexes of edges read as lists of their own."""
    parts = {}  # month -> the blocks and added edges of the range in it
    for month in plan.month_starts():
        parts[month] = [("month", month)]
    for half in plan.halves:
        parts.setdefault(month_first(half), []).append(("half", half))
    for index, (edge_from, _edge_to, sign) in enumerate(plan.edges):
        if sign > 0:
            parts.setdefault(month_first(edge_from), []).append(("edge", index))
    blocks, edges = [], []
    for month, in_month in sorted(parts.items()):
        if len(in_month) > 1:  # several parts of one month: the month bounds them all
            blocks.append(Block(names["month"], "month", month))
            continue
        kind, value = in_month[0]
        if kind == "edge":
            edges.append(value)
        else:
            blocks.append(Block(names[kind], kind, value))
    return blocks, edges


def _edge_sums(key: str, edge_from, edge_to) -> dict[int, dict[str, int]]:
    """Each customer/product's sums over a few days of orders."""
    rows = fetch(edge_sums_sql(key), [date_param(edge_from), date_param(edge_to)])
    return {pk: {"revenue_cents": int(cents), "quantity": int(quantity), "orders": int(orders)} for pk, cents, quantity, orders in rows}


def _totals(rows: list[tuple], edges: list) -> dict[int, dict[str, int]]:
    """Each candidate's sums over the whole range (rollup blocks from `rows`, edges added or taken away), by pk."""
    totals = {}
    for pk, cents, quantity, orders in rows:
        sums = {"revenue_cents": int(cents or 0), "quantity": int(quantity or 0), "orders": int(orders or 0)}
        for edge, sign in edges:
            for metric, value in edge.get(pk, {}).items():
                sums[metric] += sign * value
        if sums["orders"] > 0:
            totals[pk] = sums
    return totals


def _block_sums(entity: str, plan: RangePlan, block_lists: list[Block], *, metrics: list[str], depth: int, extra: set[int]) -> list[tuple]:
    """Read each block list `depth` deep; return (pk, revenue_cents, quantity, orders) of every candidate over the range's blocks.

    `extra`: candidates seen elsewhere (the edges read as lists). A candidate with no row
    in any block comes back with NULL sums.
    """
    names = ENTITY[entity]
    key = names["id"]
    seen, params = [], []
    for metric in metrics:
        for block in block_lists:
            seen.append(
                f"SELECT pk FROM (SELECT {key} AS pk FROM {block.table} WHERE {block.column} = %s"
                f" ORDER BY {metric} DESC LIMIT {depth}) l"
            )
            params.append(date_param(block.day))
    if connection.vendor == "postgresql":
        seen.append("SELECT unnest(CAST(%s AS bigint[]))")
        params.append(sorted(extra))
    else:
        seen.append("SELECT value FROM json_each(%s)")
        params.append(json.dumps(sorted(extra)))
    parts = []
    for column, days in (("month", plan.month_starts()), ("half", plan.halves)):
        if days:
            parts.append(
                f"SELECT {key} AS pk, revenue_cents, quantity, orders FROM {names[column]}"
                f" WHERE {column} IN ({', '.join(['%s'] * len(days))}) AND {key} IN (SELECT pk FROM candidates)"
            )
            params += [date_param(day) for day in days]
    sql = (
        f"WITH candidates AS ({' UNION '.join(seen)}),"
        " sums AS (SELECT pk, sum(revenue_cents) AS revenue_cents, sum(quantity) AS quantity, sum(orders) AS orders"
        f" FROM ({' UNION ALL '.join(parts)}) parts GROUP BY pk)"
        " SELECT c.pk, s.revenue_cents, s.quantity, s.orders FROM candidates c LEFT JOIN sums s ON s.pk = c.pk"
    )
    return fetch(sql, params)
