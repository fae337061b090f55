"""What a look-up by order code and phone may show of the buyer: enough to recognise the order, not to learn
someone's e-mail or street address (DESIGN §3: `ng***@gmail.com`, `Số 12 ***`)."""


def mask_email(email: str) -> str:
    if not email or "@" not in email:
        return email
    local, domain = email.rsplit("@", 1)
    return f"{local[:2] if len(local) > 2 else local[:1]}***@{domain}"


def mask_address_line(line: str) -> str:
    """The first two words (a house number, usually), then ***."""
    words = (line or "").split()
    if not words:
        return line
    return " ".join(words[:2] if len(words) > 2 else words[:1]) + " ***"
