"""Data shown to shoppers in their language: words the data stores in Vietnamese (sub-groups, units, kinds of
places, seed texts) go through the translation catalogue, where catalog.vocabulary and stores.seeding list them."""

from catalog.vocabulary import AREA_KINDS, unit_parts
from storefront.request_overhead import gettext


def data_text(value) -> str:
    """A catalogued data word in the visitor's language; anything else (names, free text) as it is."""
    text = "" if value is None else str(value)
    return gettext(text) if text else text


def unit_text(unit) -> str:
    """A sales unit: its words translated, its amount kept ("chai 500ml" → "bottle 500ml")."""
    words, number, measure = unit_parts(unit or "")
    if not number:
        return data_text(words)
    return f"{data_text(words)} {number}{' ' if measure == 'lít' else ''}{data_text(measure) if measure else ''}"


def area_label(area) -> str:
    """ "huyện Kiến Thụy" in Vietnamese, "Kiến Thụy District" in English."""
    if area is None:
        return ""
    pattern = AREA_KINDS.get(area.kind)
    return gettext(pattern, name=area.name) if pattern else f"{area.kind} {area.name}"


def init_labels(app) -> None:
    app.jinja_env.filters.update(data_text=data_text, unit_text=unit_text)
    app.jinja_env.globals.update(area_label=area_label)
