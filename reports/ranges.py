"""Date ranges cut into what is packed (reports.packing): whole months, halves of months, and a few single days.

A range is inclusive at both ends; None leaves that end open. Pure functions: the first and
last day with orders come from the caller (reports.selectors.range_plan).
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta


def month_first(day: date) -> date:
    return day.replace(day=1)


def month_last(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_next(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_previous(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


@dataclass
class RangePlan:
    """Where to read a range from: whole months, halves, and the days of its ragged edges.

    edges: (first day, last day, sign) read day by day. A ragged edge that covers most of
    its month is read as the whole month less the days outside the range (sign -1): a
    30-day edge then reads one day, not thirty.
    """

    empty: bool = False
    all_time: bool = False
    month_from: date | None = None  # first month (its first day), None = open
    month_to: date | None = None
    months: bool = True  # False when no whole month is read
    halves: list[date] = field(default_factory=list)  # halves of months read whole (their first day)
    edges: list[tuple[date, date, int]] = field(default_factory=list)
    first: date | None = None  # the first and last day with orders (of all time)
    last: date | None = None

    def month_starts(self) -> list[date]:
        """The whole months read (their first days), the open ends taken at the first and last day with orders."""
        if self.empty or self.all_time or not self.months:
            return []
        month, last = self.month_from or month_first(self.first), self.month_to or month_first(self.last)
        months = []
        while month <= last:
            months.append(month)
            month = month_next(month)
        return months


def half_span(half: date) -> tuple[date, date]:
    """The first and last day of the half month that starts on `half` (the 1st or the 16th)."""
    return (half, half.replace(day=15)) if half.day == 1 else (half, month_last(half))


def month_halves(month: date) -> list[tuple[date, date]]:
    return [half_span(month), half_span(month.replace(day=16))]


def _edge_cover(edge_from: date, edge_to: date) -> tuple[tuple[date, date] | None, list[tuple[date, date, int]]]:
    """Read a part month from one block (a half or the month) and the fewest single days.

    Return the block (or None) and the days to add (+1) or take away (-1). A block is
    counted as one day (at 10M orders a month packs 50,000 customers, a day 21,000: the
    same order of cost), so the cheapest cover minimises days read plus blocks.
    """
    month = month_first(edge_from)
    best = (edge_to - edge_from).days + 1, None
    for block in [*month_halves(month), (month, month_last(month))]:
        cost = 1 + sum((b - a).days + 1 for a, b, _sign in _difference(edge_from, edge_to, block))
        if cost < best[0]:
            best = cost, block
    block = best[1]
    if block is None:
        return None, [(edge_from, edge_to, 1)]
    return block, _difference(edge_from, edge_to, block)


def _difference(edge_from: date, edge_to: date, block: tuple[date, date]) -> list[tuple[date, date, int]]:
    """The days of the edge outside the block (+1) and of the block outside the edge (-1)."""
    one = timedelta(days=1)
    block_from, block_to = block
    days = []
    if edge_from < block_from:
        days.append((edge_from, min(edge_to, block_from - one), 1))
    if block_from < edge_from:
        days.append((block_from, min(block_to, edge_from - one), -1))
    if edge_to > block_to:
        days.append((max(edge_from, block_to + one), edge_to, 1))
    if block_to > edge_to:
        days.append((max(block_from, edge_to + one), block_to, -1))
    return days



def range_plan_for_span(*, start: date | None, end: date | None, first: date | None, last: date | None) -> RangePlan:
    """Plan the range given the first and last day with orders (a pure function)."""
    if first is None or (start and start > last) or (end and end < first) or (start and end and start > end):
        return RangePlan(empty=True)
    # A bound outside the days with orders cuts nothing off.
    start = start if start and start > first else None
    end = end if end and end < last else None
    if start is None and end is None:
        return RangePlan(all_time=True)
    plan = RangePlan(first=first, last=last)
    ragged = []  # the parts of months at the ends of the range
    if start is not None:
        plan.month_from = start if start.day == 1 else month_next(month_first(start))
        if start.day != 1:
            ragged.append((start, min(end, month_last(start)) if end else month_last(start)))
    if end is not None:
        plan.month_to = month_first(end) if end == month_last(end) else month_previous(month_first(end))
        if end != month_last(end):
            edge_from = max(start, month_first(end)) if start else month_first(end)
            if not ragged or ragged[0][0] < edge_from:
                ragged.append((edge_from, end))
    for edge_from, edge_to in ragged:
        block, days = _edge_cover(edge_from, edge_to)
        if block is not None and block[1] == month_last(block[0]) and block[0].day == 1:
            # The whole month: next to the whole months read (the start edge's just before
            # them, the end edge's just after).
            whole = block[0]
            if plan.month_from and plan.month_to and plan.month_from > plan.month_to:
                plan.month_from = plan.month_to = whole  # the first whole month read
            elif plan.month_from and whole < plan.month_from:
                plan.month_from = whole
            else:
                plan.month_to = whole
        elif block is not None:
            plan.halves.append(block[0])
        plan.edges.extend(days)
    if plan.month_from and plan.month_to and plan.month_from > plan.month_to:
        plan.months = False
    return plan
