"""Vietnamese delivery addresses as written since 1 July 2025: province → commune (xã, phường or đặc khu) → a
street line, the two official levels checked against the `vietnam-provinces` package (34 provinces; Hai Phong's
114 units), so a courier never gets a place that does not exist or a commune of another province.

A buyer may write a unit's official name in any case, with or without accents and with or without its prefix
("Thành phố Hải Phòng", "hai phong", "Xã Kiến Thụy", "kien thuy"), or give its official code (31, "11680").
Codes come back zero-padded as the government writes them: provinces 2 digits, communes 5.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from vietnam_provinces import Province, VietNamDivisionType, Ward

from core.errors import N_, InvalidInput
from core.text import accented_words, fold_words, slugify

LINE_MAX = 200
#: How much of a buyer's unrecognised input an error message repeats.
_ECHO_MAX = 60

#: The written prefixes of each kind of unit, folded. The package names provinces without "Tỉnh" but cities
#: with "Thành phố", and every commune with its prefix; buyers write either way ("TP. Hải Phòng" too).
_PREFIXES = {
    VietNamDivisionType.TINH: ("tinh",),
    VietNamDivisionType.THANH_PHO_TRUNG_UONG: ("thanh pho", "tp"),
    VietNamDivisionType.XA: ("xa",),
    VietNamDivisionType.PHUONG: ("phuong",),
    VietNamDivisionType.DAC_KHU: ("dac khu",),
}
#: Kinds of the 2025 commune level, as `areas.kind` writes them.
_COMMUNE_KINDS = {"xa", "phuong", "dac khu"}
#: Kinds of the abolished district level, which may lead a `formed_from` ("huyện An Dương").
_DISTRICT_KINDS = ("quan ", "huyen ", "thanh pho ", "thi xa ")


@dataclass(frozen=True)
class Address:
    line: str
    commune_code: str
    commune_name: str
    province_code: str
    province_name: str


@dataclass(frozen=True)
class Unit:
    """One choice of a form's dropdown: its official code and full official name ("Xã Kiến Thụy")."""

    code: str
    name: str
    kind: str


def validate_address(data) -> Address:
    """The address `data` ({"line", "commune", "province"}) names, or InvalidInput on the first wrong field."""
    address, problems = check_address(data)
    if problems:
        raise problems[0]
    return address


def check_address(data) -> tuple[Address | None, list[InvalidInput]]:
    """The address `data` names and no problems, or None and every wrong field's InvalidInput (a commune is
    checked only against a province that exists)."""
    if not isinstance(data, dict):
        return None, [
            InvalidInput(
                N_("Địa chỉ giao hàng cần có tỉnh, thành phố; xã, phường; và số nhà, tên đường."), field="address"
            )
        ]
    problems: list[InvalidInput] = []
    province = commune = line = None
    try:
        province = _province(data.get("province"))
        commune = _commune(data.get("commune"), province)
    except InvalidInput as problem:
        problems.append(problem)
    try:
        line = _line(data.get("line"))
    except InvalidInput as problem:
        problems.append(problem)
    if problems:
        return None, problems
    return Address(
        line=line,
        commune_code=_commune_code(commune),
        commune_name=commune.name,
        province_code=_province_code(province),
        province_name=province.name,
    ), []


def provinces() -> list[Unit]:
    """The 34 provinces and cities, in the order a Vietnamese reader looks for them (by name, "Thành phố" aside)."""
    return sorted(
        (Unit(_province_code(p), p.name, p.division_type.value) for p in Province.iter_all()), key=_reading_order
    )


def communes(province_code) -> list[Unit]:
    """The communes, wards and special zones of a province, by name whatever their kind; InvalidInput
    (field address.province) for a code that is no province."""
    province = _province(province_code)
    return sorted(
        (Unit(_commune_code(w), w.name, w.division_type.value) for w in _wards_of(province.code)), key=_reading_order
    )


@dataclass(frozen=True)
class FormerCommune:
    """A commune, ward or town as it was before the 1/7/2025 merger, with the district it belonged to."""

    code: str
    name: str
    #: "Huyện Kiến Thuỵ"
    district: str
    #: The district's slug ("kien-thuy"), the key of its `areas` rows.
    district_slug: str
    province: str


#: data/communes_before_2025.csv: Hai Phong's and Hải Dương's units before the merger (GSO codes).
FORMER_COMMUNES_CSV = Path(__file__).resolve().parent.parent / "data" / "communes_before_2025.csv"


@cache
def former_communes() -> dict[str, FormerCommune]:
    """The pre-2025 communes of Hai Phong and the former Hải Dương, by their 5-digit code."""
    with FORMER_COMMUNES_CSV.open(encoding="utf-8") as rows:
        reader = csv.DictReader(row for row in rows if not row.startswith("#"))
        return {
            row["code"]: FormerCommune(
                row["code"], row["name"], row["district"], _district_slug(row["district"]), row["province"]
            )
            for row in reader
        }


def _district_slug(name: str) -> str:
    district = fold_words(name)
    for prefix in _DISTRICT_KINDS:
        district = district.removeprefix(prefix)
    return slugify(district)


def former_district_of(commune_name: str, rows: Iterable[tuple[str, str, str | None]]) -> str | None:
    """The slug of the former district ("kien-thuy") a 2025 commune was formed from, or None when `rows` do
    not say (a commune of the former Hải Dương, or one missing from the table).

    `rows` are the `areas` table's (name, kind, formed_from); only commune-level kinds count, so a district
    of the same name ("An Dương") is never taken for the ward. The name may carry its prefix and the package's
    spelling ("Phường Thuỷ Nguyên" finds the row "Thủy Nguyên").
    """
    wanted = fold_words(commune_name or "")
    for name, kind, formed_from in rows:
        kind_key = fold_words(kind or "")
        if kind_key not in _COMMUNE_KINDS or not formed_from:
            continue
        if wanted in (fold_words(name), f"{kind_key} {fold_words(name)}"):
            return _district_slug(formed_from)
    return None


def _province(value) -> Province:
    if _blank(value):
        raise InvalidInput(N_("Hãy chọn tỉnh hoặc thành phố."), field="address.province")
    code = _as_code(value)
    if code is not None:
        try:
            return Province.from_code(code)
        except ValueError:
            pass
    else:
        found = _pick(_province_index(), value, field="address.province")
        if found is not None:
            return found
    raise InvalidInput(
        N_("Không có tỉnh, thành phố nào có tên hoặc mã “%(province)s” (cả nước có 34 tỉnh, thành phố từ 1/7/2025)."),
        field="address.province",
        province=_echo(value),
    )


def _commune(value, province: Province) -> Ward:
    if _blank(value):
        raise InvalidInput(N_("Hãy chọn xã, phường hoặc đặc khu."), field="address.commune")
    code = _as_code(value)
    if code is not None:
        try:
            ward = Ward.from_code(code)
        except ValueError:
            ward = None
        if ward is not None and ward.province_code == province.code:
            return ward
        elsewhere = [ward] if ward is not None else []
    else:
        found = _pick(_ward_index(province.code), value, field="address.commune")
        if found is not None:
            return found
        elsewhere = _named_elsewhere(value, province)
    if len(elsewhere) == 1:
        raise InvalidInput(
            N_("%(commune)s thuộc %(other)s, không thuộc %(province)s."),
            field="address.commune",
            commune=elsewhere[0].name,
            other=Province.from_code(elsewhere[0].province_code).name,
            province=province.name,
        )
    raise InvalidInput(
        N_("%(province)s không có xã, phường hay đặc khu nào có tên hoặc mã “%(commune)s”."),
        field="address.commune",
        province=province.name,
        commune=_echo(value),
    )


def _line(value) -> str:
    line = " ".join(value.split()) if isinstance(value, str) else ""
    if not line:
        raise InvalidInput(N_("Hãy ghi số nhà, tên đường (hoặc thôn, xóm)."), field="address.line")
    if len(line) > LINE_MAX:
        raise InvalidInput(N_("Số nhà, tên đường dài quá %(max)d ký tự."), field="address.line", max=LINE_MAX)
    return line


def _pick(index: dict, value, field: str):
    """The one unit `value` names in `index`; when its folded name fits several ("Cẩm Giang", "Cẩm Giàng"),
    the accents decide, and if they cannot, the buyer is asked to choose."""
    candidates = index.get(fold_words(str(value)), [])
    if len(candidates) > 1:
        written = accented_words(str(value))
        exact = [unit for unit in candidates if written in _accented_keys(unit)]
        if len(exact) == 1:
            return exact[0]
        choices = ", ".join(f"{unit.name} ({_code_of(unit)})" for unit in candidates)
        raise InvalidInput(
            N_("“%(value)s” có thể là %(choices)s: hãy ghi đủ dấu hoặc chọn theo mã."),
            field=field,
            value=_echo(value),
            choices=choices,
        )
    return candidates[0] if candidates else None


def _named_elsewhere(value, province: Province) -> list[Ward]:
    key = fold_words(str(value))
    return [ward for ward in Ward.iter_all() if ward.province_code != province.code and key in _folded_keys(ward)]


@cache
def _province_index() -> dict[str, list[Province]]:
    return _index(Province.iter_all())


@cache
def _ward_index(province_code: int) -> dict[str, list[Ward]]:
    return _index(_wards_of(province_code))


@cache
def _wards_of(province_code: int) -> tuple[Ward, ...]:
    return tuple(Ward.iter_by_province(province_code))


def _index(units) -> dict:
    index: dict[str, list] = {}
    for unit in units:
        for key in _folded_keys(unit):
            index.setdefault(key, []).append(unit)
    return index


def _folded_keys(unit) -> set[str]:
    bare = _bare_name(unit)
    return {fold_words(unit.name), bare} | {f"{prefix} {bare}" for prefix in _PREFIXES[unit.division_type]}


def _accented_keys(unit) -> set[str]:
    name = accented_words(unit.name)
    words = name.split()
    prefix_length = len(_bare_prefix(unit).split()) if _bare_prefix(unit) else 0
    return {name, " ".join(words[prefix_length:])}


def _bare_name(unit) -> str:
    """The folded name without its kind: "Thành phố Hải Phòng" → "hai phong", "Xã Kiến Thụy" → "kien thuy"."""
    name, prefix = fold_words(unit.name), _bare_prefix(unit)
    return name[len(prefix) + 1 :] if prefix else name


def _bare_prefix(unit) -> str:
    name = fold_words(unit.name)
    return next((prefix for prefix in _PREFIXES[unit.division_type] if name.startswith(prefix + " ")), "")


def _reading_order(unit: Unit):
    folded = fold_words(unit.name)
    prefix = next((p for prefixes in _PREFIXES.values() for p in prefixes if folded.startswith(p + " ")), "")
    return folded[len(prefix) :].strip(), folded, unit.name


def _as_code(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _echo(value) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= _ECHO_MAX else text[: _ECHO_MAX - 1] + "…"


def _code_of(unit) -> str:
    return _province_code(unit) if isinstance(unit, Province) else _commune_code(unit)


def _province_code(province: Province) -> str:
    return f"{int(province.code):02d}"


def _commune_code(ward: Ward) -> str:
    return f"{int(ward.code):05d}"
