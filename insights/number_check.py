"""Check every number in an answer against the facts, and mark in the text the ones that match none."""

import re
from decimal import Decimal, InvalidOperation

UNVERIFIED_MARK = " ⚠ unverified"

# A number as people write it: optional sign, thousands separators, decimals, then an optional
# k/M/B suffix or a percent sign. Not a part of a word or identifier (C1001, P-7, 2024-03 is
# handled as a month), and not an ordered-list marker at the start of a line.
_NUMBER = re.compile(
    r"(?<![\w.\-/])"
    r"(?P<sign>[-+−])?"
    r"(?P<currency>[$€£])?"
    r"(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?P<decimals>\.\d+)?"
    r"(?P<suffix>\s?(?:[kKmMbB](?![A-Za-z])|%))?"
    r"(?![\w\-/]|\.\d)"
)
_LIST_MARKER = re.compile(r"^(\s*)\d+\.\s", re.MULTILINE)
_DATE = re.compile(r"(?<![\w\-])\d{4}-\d{2}(?:-\d{2})?(?![\w\-])")
_MULTIPLIER = {"k": Decimal(1_000), "m": Decimal(1_000_000), "b": Decimal(1_000_000_000)}


def fact_numbers(facts) -> set[Decimal]:
    """Every number found in the facts: values, numeric text, and the parts of dates and months."""
    found: set[Decimal] = set()

    def visit(value):
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, (int, float, Decimal)):
            found.add(Decimal(str(value)))
        elif isinstance(value, str):
            try:
                found.add(Decimal(value))
            except InvalidOperation:
                # Dates and months: "2024-03" lets the answer say "2024" or "March 2024".
                for part in re.findall(r"\d+", value) if _DATE.fullmatch(value) else []:
                    found.add(Decimal(part))

    visit(facts)
    return found


def _matches(value: Decimal, *, precision: Decimal, facts: set[Decimal]) -> bool:
    """Whether some fact, rounded as the answer rounded it, is this value (either sign: "fell 12%")."""
    half = precision / 2
    return any(abs(abs(fact) - abs(value)) <= half for fact in facts)


def numbers_check(*, markdown: str, facts: dict) -> tuple[str, int]:
    """Return the answer with each number that matches no fact marked, and how many were marked."""
    known = fact_numbers(facts)
    skipped = [(m.start(), m.end()) for m in _LIST_MARKER.finditer(markdown)]
    marks: list[int] = []
    for match in _DATE.finditer(markdown):
        skipped.append((match.start(), match.end()))
        if not all(Decimal(part) in known for part in match.group().split("-")):
            marks.append(match.end())
    for match in _NUMBER.finditer(markdown):
        if any(start <= match.start() < end for start, end in skipped):
            continue
        if not _verified(match, known):
            marks.append(match.end())
    pieces: list[str] = []
    position = 0
    for end in sorted(marks):
        pieces.append(markdown[position:end])
        pieces.append(UNVERIFIED_MARK)
        position = end
    pieces.append(markdown[position:])
    return "".join(pieces), len(marks)


def _verified(match: re.Match, known: set[Decimal]) -> bool:
    digits = match["digits"].replace(",", "")
    decimals = match["decimals"] or ""
    value = Decimal(digits + decimals)
    precision = Decimal(1).scaleb(-(len(decimals) - 1)) if decimals else Decimal(1)
    suffix = (match["suffix"] or "").strip().lower()
    if suffix in _MULTIPLIER:
        value *= _MULTIPLIER[suffix]
        precision *= _MULTIPLIER[suffix]
    return _matches(value, precision=precision, facts=known)
