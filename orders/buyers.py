"""A buyer's own details kept with their account and offered again at checkout: name, phone, delivery address.
Checked as checkout checks them, every wrong field at once. Flushes; the caller commits."""

from sqlalchemy.orm import Session

from core.addresses import check_address
from core.errors import N_, InvalidInput, InvalidInputs
from core.phones import normalize_phone

NAME_MAX = 120


def save_buyer_details(session: Session, user, *, name: str, phone: str, address: dict | None) -> None:
    """Keeps `name`, `phone` (optional; stored in national form) and `address` ({"province", "commune", "line"};
    None or all of it blank forgets the saved one) on `user`. InvalidInput, or InvalidInputs for several, leaves
    the account unchanged."""
    problems: list[InvalidInput] = []
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX:
        problems.append(InvalidInput(N_("Cần họ tên (tối đa 120 ký tự)."), field="customer.name"))
    national = ""
    if (phone or "").strip():
        try:
            national = normalize_phone(phone)
        except InvalidInput as problem:
            problems.append(problem)
    saved = None
    if address and ((address.get("line") or "").strip() or (address.get("commune") or "").strip()):
        saved, wrong = check_address(address)
        problems.extend(wrong)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidInputs(problems)
    user.name, user.phone = name, national
    if saved is None:
        user.address_line = user.province_code = user.commune_code = ""
    else:
        user.address_line, user.province_code, user.commune_code = saved.line, saved.province_code, saved.commune_code
    session.flush()
