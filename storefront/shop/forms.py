"""Parses the catalogue's query string; bad values become a friendly 400 page, never a 500."""

from werkzeug.datastructures import MultiDict

from catalog.groups import GROUPS
from core.errors import N_, InvalidInput
from search.query import SORTS, SearchQuery

PER_PAGE = 24


def _ints(values: list[str], allowed: set[int], name: str) -> list[int]:
    result = []
    for value in values:
        if value == "":
            continue
        if not (value.isascii() and value.isdigit()) or int(value) not in allowed:
            raise InvalidInput(N_("Bộ lọc '%(name)s' không có giá trị '%(value)s'."), name=name, value=value[:20])
        result.append(int(value))
    return result


def _price(value: str, name: str):
    if value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        raise InvalidInput(N_("Giá '%(name)s' phải là số đồng, không âm."), name=name, value=value[:20])
    return int(value)


#: What the catalogue page reads of its query (anything else is ignored, and left out of its cache key).
CATALOGUE_PARAMS = ("q", "group", "stars", "district", "sort", "page", "min_price", "max_price")


def parse_catalogue_args(args: MultiDict, known_districts: set[str]) -> SearchQuery:
    q = args.get("q", "").strip()
    if len(q) > 200:
        raise InvalidInput(N_("Từ khóa tìm kiếm quá dài (tối đa 200 ký tự)."))
    districts = [d for d in args.getlist("district") if d]
    unknown = [d for d in districts if d not in known_districts]
    if unknown:
        raise InvalidInput(N_("Không có huyện/quận '%(district)s'."), district=unknown[0][:40])
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise InvalidInput(N_("Không có cách sắp xếp '%(sort)s'."), sort=sort[:20])
    page = args.get("page", "1")
    if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= 100000:
        raise InvalidInput(N_("Số trang phải là số nguyên từ 1."))
    min_price, max_price = (
        _price(args.get("min_price", ""), "min_price"),
        _price(args.get("max_price", ""), "max_price"),
    )
    if min_price is not None and max_price is not None and min_price > max_price:
        raise InvalidInput(N_("Giá thấp nhất không được lớn hơn giá cao nhất."))
    return SearchQuery(
        q=q,
        groups=tuple(_ints(args.getlist("group"), set(GROUPS), "nhóm")),
        stars=tuple(_ints(args.getlist("stars"), {3, 4, 5}, "sao")),
        districts=tuple(districts),
        min_price=min_price,
        max_price=max_price,
        sort=sort,
        page=int(page),
        per_page=PER_PAGE,
    )
