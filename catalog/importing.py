"""Reads the real OCOP product records (data/ocop_products.csv) into plain values. No database here."""

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from catalog.groups import GROUP_BY_NAME

_DISTRICT_PREFIX = re.compile(r"^(huyện|quận|thành phố|thị xã|TP)\s+", re.IGNORECASE)
_PARENTHESES = re.compile(r"\s*\(.*?\)\s*")


@dataclass(frozen=True)
class ProductRecord:
    name: str
    name_verified: bool
    producer: str
    commune: str
    district_kind: str
    district_name: str
    province: str
    group: int
    subgroup: str
    stars: int
    level: str | None
    issued_on: date | None
    date_is_approximate: bool
    decision: str
    source_url: str


def split_district(text: str) -> tuple[str, str]:
    """ "huyện Thủy Nguyên (TP Thủy Nguyên từ 1/1/2025)" → ("huyện", "Thủy Nguyên")."""
    text = _PARENTHESES.sub(" ", text).strip()
    match = _DISTRICT_PREFIX.match(text)
    kind = match.group(1) if match else ""
    kind = "thành phố" if kind.upper() == "TP" else kind.lower()
    return kind, text[match.end() :].strip() if match else text


def certificate_date(certified_on: str, year: str) -> tuple[date | None, bool]:
    """The signing date, or 1 January of the year when only that is known (approximate, never sells late)."""
    if certified_on:
        return date.fromisoformat(certified_on), False
    if year:
        return date(int(year), 1, 1), True
    return None, False


def read_products(path: Path) -> Iterator[ProductRecord]:
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            kind, district = split_district(row["district"])
            issued_on, approximate = certificate_date(row["certified_on"].strip(), row["year"].strip())
            yield ProductRecord(
                name=row["name"].strip(),
                name_verified=row["name_verified"].strip() == "yes",
                producer=row["producer"].strip(),
                commune=_PARENTHESES.sub(" ", row["commune"]).strip(),
                district_kind=kind,
                district_name=district,
                province=row["former_province"].strip(),
                group=GROUP_BY_NAME[row["group"].strip()],
                subgroup=row["subgroup"].strip(),
                stars=int(row["stars"]),
                level=row["level"].strip() or None,
                issued_on=issued_on,
                date_is_approximate=approximate,
                decision=row["decision"].strip(),
                source_url=row["source_url"].strip(),
            )
