"""Source profiles: how staff said a file's header maps to our fields, kept for every later file with that header.

A profile is found by the header's signature (orders.ingest.formats.header_signature), so the
bucket's files and later uploads with the same header are read by it with no one asking.
"""

import re

from django.db import transaction

from ..ingest.headers import FIELD_LABELS, STANDS_IN_FOR, column_for_header, missing_required, normalise_header
from ..models import SourceProfile

# Our fields in the order the mapping's selects offer them: each required one next to the one standing in for it.
MAPPABLE_FIELDS = (
    "order_id", "line_number", "customer_id", "customer_email", "product_id", "product_name",
    "quantity", "price", "line_total", "order_date", "financial_status", "refunded_amount",
)
NOT_USED = "— not used —"

MAPPING_MISSING = "Choose the file's column for: {missing}."
MAPPING_GUESTS_HINT = " (or tick “Guest checkouts allowed”)"
MAPPING_DOUBLED = "{label} is chosen for more than one column ({headers}): choose it for one only."
MAPPING_UNKNOWN_FIELD = "{field!r} is none of our fields."
MAPPING_UNKNOWN_HEADER = "{header!r} is not a column of the file."
MAPPING_SAME_NAME = (
    "The file has more than one column named {header!r}: a profile finds its columns by name, so neither can be used."
)
CREATED_REASON = "Made on the import preview of {file_name}"
UPDATED_REASON = "Mapped again on the import preview of {file_name}"
EDITED_REASON = "Edited in the admin"
_REASON_MAX_LENGTH = 100  # django-simple-history's change reason column
_NAME_DATE = re.compile(r"[ _.-]*\d{4}-?\d{2}-?\d{2}.*$")
_NAME_SUFFIX = re.compile(r"(\.(csv|tsv|txt|xlsx))?(\.gz)?$", re.IGNORECASE)
NAME_MAX_LENGTH = SourceProfile._meta.get_field("name").max_length


class SourceProfileError(ValueError):
    """The mapping cannot be saved; the message is for the user."""


def field_label(field: str) -> str:
    return FIELD_LABELS.get(field, field)


def mapping_missing_message(fields, *, allow_guests: bool) -> str:
    """The message for a mapping that lacks required fields, or "" when none is missing."""
    missing = missing_required(set(fields), guests=allow_guests)
    if not missing:
        return ""
    parts = []
    for column in missing:
        part = field_label(column)
        if column in STANDS_IN_FOR:
            part += f" or {field_label(STANDS_IN_FOR[column])}"
        if column == "customer_id":
            part += MAPPING_GUESTS_HINT
        parts.append(part)
    return MAPPING_MISSING.format(missing="; ".join(parts))


def mapping_problems(*, headers: list[str], columns: dict[str, str], allow_guests: bool) -> list[str]:
    """What is wrong with columns ({our field: the file's header name}) for this header; [] when nothing is.

    Two headers with the same normalised name cannot be told apart by a profile, which reads a
    column by its name: mapping either is refused rather than reading whichever comes first.
    """
    problems = []
    normalised = [normalise_header(header) for header in headers]
    for field, header in columns.items():
        if field not in MAPPABLE_FIELDS:
            problems.append(MAPPING_UNKNOWN_FIELD.format(field=field))
        elif not header.strip() or normalise_header(header) not in normalised:  # read by its normalised name
            problems.append(MAPPING_UNKNOWN_HEADER.format(header=header))
        elif normalised.count(normalise_header(header)) > 1:
            problems.append(MAPPING_SAME_NAME.format(header=header.strip()))
    missing = mapping_missing_message(columns, allow_guests=allow_guests)
    if missing:
        problems.append(missing)
    return problems


def suggested_columns(headers: list[str]) -> dict[int, str]:
    """{header position: our field} where our aliases already read a header; the first header only for each field."""
    suggested: dict[int, str] = {}
    for position, header in enumerate(headers):
        field = column_for_header(header) if header.strip() else None
        if field in MAPPABLE_FIELDS and field not in suggested.values():
            suggested[position] = field
    return suggested


def profile_name_from_file(file_name: str) -> str:
    """A profile's default name: the file's name without its suffix and business date ("till_2024-03-01.csv" -> "till")."""
    stem = _NAME_SUFFIX.sub("", file_name)
    name = _NAME_DATE.sub("", stem).strip(" _.-") or stem or file_name
    return name[:NAME_MAX_LENGTH]


def _header_signature(headers: list[str]) -> str:
    from ..ingest.formats import header_signature  # the ingest layer's one definition of a header's identity

    return header_signature(headers)


@transaction.atomic
def source_profile_create(
    *, name: str, headers: list[str], columns: dict[str, str], grain: str, allow_returns: bool, allow_guests: bool,
    user, file_name: str = "",
) -> SourceProfile:
    """Save how a header maps to our fields; a profile for the same header (signature) is updated instead.

    Either way the profile's history gets a row saying who did it and on which file.
    """
    problems = mapping_problems(headers=headers, columns=columns, allow_guests=allow_guests)
    if problems:
        raise SourceProfileError(" ".join(problems))
    if grain not in SourceProfile.Grain.values:
        raise SourceProfileError(f"{grain!r} is not a grain: choose one of {', '.join(SourceProfile.Grain.values)}.")
    signature = _header_signature(headers)
    profile = SourceProfile.objects.select_for_update().filter(header_signature=signature).first()
    reason = UPDATED_REASON if profile else CREATED_REASON
    if profile is None:
        profile = SourceProfile(header_signature=signature, created_by=user if getattr(user, "pk", None) else None)
    profile.name = name.strip()[:NAME_MAX_LENGTH]
    profile.headers = list(headers)
    profile.columns = {field: columns[field].strip() for field in MAPPABLE_FIELDS if field in columns}
    profile.grain, profile.allow_returns, profile.allow_guests = grain, allow_returns, allow_guests
    _history_note(profile, user, reason.format(file_name=file_name or "an upload"))
    profile.save()
    return profile


@transaction.atomic
def source_profile_update(
    *, profile_id: int, name: str, columns: dict[str, str], grain: str, allow_returns: bool, allow_guests: bool,
    user, reason: str = EDITED_REASON,
) -> SourceProfile:
    """Change a profile's name, mapping, grain or policies; its header (and so its signature) stays."""
    profile = SourceProfile.objects.select_for_update().get(pk=profile_id)
    problems = mapping_problems(headers=profile.headers, columns=columns, allow_guests=allow_guests)
    if problems:
        raise SourceProfileError(" ".join(problems))
    profile.name = name.strip()[:NAME_MAX_LENGTH]
    profile.columns = {field: columns[field].strip() for field in MAPPABLE_FIELDS if field in columns}
    profile.grain, profile.allow_returns, profile.allow_guests = grain, allow_returns, allow_guests
    _history_note(profile, user, reason)
    profile.save()
    return profile


def _history_note(profile: SourceProfile, user, reason: str) -> None:
    profile._history_user = user if getattr(user, "pk", None) else None
    profile._change_reason = reason[:_REASON_MAX_LENGTH]


def profile_headers_summary(headers: list[str], *, most: int = 6) -> str:
    """The header as a short line for lists: its first names, then how many more."""
    names = [name.strip() for name in headers if name.strip()]
    shown = ", ".join(names[:most])
    return f"{shown}, and {len(names) - most} more" if len(names) > most else shown

