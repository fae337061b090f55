"""The six OCOP product groups of Decision 148/QĐ-TTg. Sub-groups are data, not code."""

from core.text import fold_words

GROUPS: dict[int, str] = {
    1: "Thực phẩm",
    2: "Đồ uống",
    3: "Dược liệu và sản phẩm từ dược liệu",
    4: "Hàng thủ công mỹ nghệ",
    5: "Sinh vật cảnh",
    6: "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
}

#: Group 6 items (tours, sites) are booked, not stocked.
SERVICE_GROUP = 6

GROUP_BY_NAME = {name: code for code, name in GROUPS.items()}

#: Food, drinks and herbal products spoil; crafts, ornamental animals and plants, and services do not (DESIGN §3).
GROUPS_WITH_BEST_BEFORE = frozenset({1, 2, 3})


def has_best_before(group: int) -> bool:
    """Whether a lot of a product in `group` carries a best-before date (otherwise it stays empty)."""
    if group not in GROUPS:
        raise ValueError(f"unknown OCOP product group {group!r}")
    return group in GROUPS_WITH_BEST_BEFORE


#: Words that make a drink alcoholic when the sub-group does not say (imported rows without one).
_ALCOHOL_WORDS = ("ruou", "bia", "vang")


def is_alcoholic(product) -> bool:
    """Drinks with alcohol are sold only to buyers who confirm being 18 or over (DESIGN §3, confirm_adult):
    the sub-group "Đồ uống có cồn", or a rượu, bia or vang by name in the drinks group."""
    if product.group != 2:
        return False
    subgroup = fold_words(product.subgroup or "")
    if subgroup:
        return "co con" in subgroup and "khong co con" not in subgroup
    return bool(set(fold_words(product.name).split()) & set(_ALCOHOL_WORDS))
