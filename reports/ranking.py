"""The top customers or products of a range without summing every one: the threshold algorithm over the rollups.

At 10M orders a three-month range is 150,000 month x customer rows, and summing them all
to keep five took 160 ms. Instead (Fagin's threshold algorithm, read in batches):

1. The range is bounded by a few **lists**, each a rollup block read in the order of the
   metric through an index on (block, metric): a month the range covers whole, a half
   month read whole (when it is all the range has of its month), and otherwise the month
   itself, which is at least the sum of the range's parts in it (a half and a few days).
2. Every customer or product met in the first `depth` rows of any list is summed exactly
   over the range: its month and half rows, and its orders of the few days at the ends,
   added or taken away.
3. One not met has, in each list, at most the value at which that list stopped (0 for a
   list read to its end), so at most their sum: the bound. Every value is at least 0
   (quantities are positive and prices never negative), so days taken away only lower a
   sum, and the bound needs no list for them.
4. When the limit-th value met is strictly above the bound, no one unmet can reach the top,
   ties by id included. How deep to read is chosen up front: a first look PROBE_DEPTH deep
   gives a floor for the limit-th value (it only rises as more are met), and the values of
   each list at the depths of the grid give the bound at each depth; the first depth whose
   bound is below the floor settles. Deeper than the grid, the caller sums everything.
"""

from dataclasses import dataclass
from datetime import date

from .ranges import RangePlan, month_first
from .sums import ENTITY, date_param, entity_sums_sql, fetch

PROBE_DEPTH = 256
DEPTHS = [256, 384, 512, 768, 1024, 1536]
# Past this many lists the bound (a sum of one value per list) is too loose to stop early.
MAX_LISTS = 8


@dataclass(frozen=True)
class Block:
    """A rollup block read as a list: its table, its date column, and its first day."""

    table: str
    column: str
    day: date


def entity_top_lists(entity: str, plan: RangePlan, *, metrics: list[str], limit: int) -> dict[str, list[tuple[str, int]]] | None:
    """For each metric, the `limit` customers/products of the plan with the highest value, ties by id ascending.

    Return None when reading in order does not pay (no rollup block in the range, too many
    lists, or deeper than the grid): the caller sums everything.
    """
    if not (plan.month_starts() or plan.halves):
        return None  # a few days of orders only: summing them is the read
    lists = _lists(plan, ENTITY[entity])
    if len(lists) > MAX_LISTS:
        return None
    bounds = _bounds(lists, metrics=metrics)
    probed = _candidate_sums(entity, plan, lists, metrics=metrics, depth=PROBE_DEPTH)
    tops = {}
    for metric in metrics:
        values = sorted((sums[metric] for sums in probed.values()), reverse=True)
        floor = values[limit - 1] if len(values) >= limit else None
        depth = next(
            (d for d in DEPTHS if bounds[metric][d][1] or (floor is not None and bounds[metric][d][0] < floor)), None
        )
        if depth is None:
            return None
        totals = probed
        if depth > PROBE_DEPTH:
            totals = {**probed, **_candidate_sums(entity, plan, lists, metrics=[metric], depth=depth, floor=floor or 0)}
        tops[metric] = _ranked(entity, totals, metric, limit=limit)
    return tops


def _lists(plan: RangePlan, names: dict) -> list[Block]:
    """The blocks that bound the range, one per month it touches."""
    parts = {month: ["month"] for month in plan.month_starts()}
    for half in plan.halves:
        parts.setdefault(month_first(half), []).append(half)
    for edge_from, _edge_to, sign in plan.edges:
        if sign > 0:
            parts.setdefault(month_first(edge_from), []).append("days")
    lists = []
    for month, in_month in sorted(parts.items()):
        if len(in_month) == 1 and isinstance(in_month[0], date):
            lists.append(Block(names["half"], "half", in_month[0]))
        else:
            lists.append(Block(names["month"], "month", month))
    return lists


def _bounds(lists: list[Block], *, metrics: list[str]) -> dict[str, dict[int, tuple[int, bool]]]:
    """Per metric and depth of the grid: (the bound on anyone not met, whether every list is read to its end)."""
    values = {}  # (metric, list) -> {depth: the value at that position}
    for metric_no, list_no, position, value in _values_at_depths(lists, metrics=metrics):
        values.setdefault((metrics[metric_no], list_no), {})[int(position)] = int(value)
    bounds = {}
    for metric in metrics:
        bounds[metric] = {}
        for depth in DEPTHS:
            at_depth = [values.get((metric, list_no), {}).get(depth) for list_no in range(len(lists))]
            bounds[metric][depth] = (sum(v for v in at_depth if v is not None), all(v is None for v in at_depth))
    return bounds


def _first_rows_sql(block: Block, metric: str, *, depth: int, key: str | None = None) -> str:
    """SQL for the first `depth` rows of a list (one date param): (pk, v) with a key column, else (v)."""
    columns = f"{key} AS pk, {metric} AS v" if key else f"{metric} AS v"
    return f"SELECT {columns} FROM {block.table} WHERE {block.column} = %s ORDER BY {metric} DESC LIMIT {depth}"


def _values_at_depths(lists: list[Block], *, metrics: list[str]) -> list[tuple]:
    """The value at each depth of the grid in each list: (metric, list, depth, value); none past a list's end."""
    selects, params = [], []
    for metric_no, metric in enumerate(metrics):
        for list_no, block in enumerate(lists):
            selects.append(
                f"SELECT {metric_no} AS metric, {list_no} AS list, n, v FROM"
                f" (SELECT v, row_number() OVER (ORDER BY v DESC) AS n FROM ({_first_rows_sql(block, metric, depth=DEPTHS[-1])}) l) ranked"
                f" WHERE n IN ({', '.join(str(d) for d in DEPTHS)})"
            )
            params.append(date_param(block.day))
    return fetch(" UNION ALL ".join(selects), params)


def _candidate_sums(
    entity: str, plan: RangePlan, lists: list[Block], *, metrics: list[str], depth: int, floor: int | None = None
) -> dict[int, dict[str, int]]:
    """Meet the first `depth` rows of each list; return the sums over the whole range of those met, by pk (orders > 0 only).

    floor (one metric): sum only those who may still reach it. One met in some lists has
    there the value read, and elsewhere at most the value the list stopped at (0 for a list
    read to its end); below the floor on that count, they cannot be in the top.
    """
    key = ENTITY[entity]["id"]
    met, params = [], []
    for metric in metrics:
        for list_no, block in enumerate(lists):
            met.append(f"SELECT {list_no} AS list, pk, v FROM ({_first_rows_sql(block, metric, depth=depth, key=key)}) l")
            params.append(date_param(block.day))
    ctes = [f"met AS ({' UNION ALL '.join(met)})"]
    if floor is None:
        ctes.append("candidates AS (SELECT DISTINCT pk FROM met)")
    else:
        ctes.append(f"ends AS (SELECT list, CASE WHEN count(*) = {depth} THEN min(v) ELSE 0 END AS t FROM met GROUP BY list)")
        ctes.append(
            "candidates AS (SELECT met.pk FROM met JOIN ends ON ends.list = met.list GROUP BY met.pk"
            " HAVING sum(met.v) - sum(ends.t) + (SELECT sum(t) FROM ends) >= %s)"
        )
        params.append(floor)
    sums, sums_params = entity_sums_sql(entity, plan, candidates="candidates")
    return {
        pk: {"revenue_cents": int(cents), "quantity": int(quantity), "orders": int(orders)}
        for pk, cents, quantity, orders in fetch(f"WITH {', '.join(ctes)} {sums}", [*params, *sums_params])
    }


def _ranked(entity: str, totals: dict[int, dict[str, int]], metric: str, *, limit: int) -> list[tuple[str, int]]:
    """The top `limit` of the totals by metric, ties by the customer's/product's id (read for the tied only)."""
    values = sorted((sums[metric] for sums in totals.values()), reverse=True)
    if not values:
        return []
    floor = values[min(limit, len(values)) - 1]
    kept = {pk: sums[metric] for pk, sums in totals.items() if sums[metric] >= floor}
    names = ENTITY[entity]
    ids = dict(
        fetch(f"SELECT id, {names['id']} FROM {names['table']} WHERE id IN ({', '.join(['%s'] * len(kept))})", list(kept))
    )
    return sorted(((ids[pk], value) for pk, value in kept.items()), key=lambda pair: (-pair[1], pair[0]))[:limit]
