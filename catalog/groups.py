"""The six OCOP product groups of Decision 148/QĐ-TTg. Sub-groups are data, not code."""

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
