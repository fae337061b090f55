"""The audit trail (catalog.audit) as pages show it: each entry with its changed fields in order, their values
read back from the JSON they are stored as (ISO text becomes dates and times again), and a kind that tells the
template how to write them (templates/macros/audit.html)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from catalog.models import AuditEntry


@dataclass(frozen=True)
class Change:
    field: str
    before: object
    after: object
    #: money | date | datetime | bool | text
    kind: str


@dataclass(frozen=True)
class HistoryRow:
    entry: AuditEntry
    changes: list[Change]


def history_rows(entries: Iterable[AuditEntry]) -> list[HistoryRow]:
    return [HistoryRow(entry, changes(entry)) for entry in entries]


def changes(entry: AuditEntry) -> list[Change]:
    """The fields an entry changed, in the order it recorded them (those only before, e.g. deleted, last); a field
    empty on both sides is left out."""
    before, after = entry.before or {}, entry.after or {}
    fields = [*after, *(field for field in before if field not in after)]
    result = []
    for field in fields:
        old, new = _parsed(before.get(field)), _parsed(after.get(field))
        if old in (None, "") and new in (None, ""):
            continue  # a field left empty (a record created without it) says nothing
        result.append(Change(field, old, new, _kind(field, old if new is None else new)))
    return result


def _parsed(value):
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value


def _kind(field: str, value) -> str:
    if field.endswith("_vnd"):
        return "money"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "text"
