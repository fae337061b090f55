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
