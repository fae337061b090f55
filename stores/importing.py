"""Reads dated administrative units (data/admin_units_*.csv) into plain values."""

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path


def _date(text: str):
    return date.fromisoformat(text) if text.strip() else None


def read_areas(path: Path, province: str) -> Iterator[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {
                "name": row["name"].strip(),
                "kind": row["kind"].strip(),
                "level": row["level"].strip(),
                "province": province,
                "valid_from": _date(row["valid_from"]),
                "valid_to": _date(row["valid_to"]),
                "formed_from": row["formed_from"].strip() or None,
                "note": row["note"].strip() or None,
            }
