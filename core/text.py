"""Vietnamese text folding shared by search, slugs and facets."""
import re
import unicodedata

_SEPARATORS = re.compile(r"[^a-z0-9]+")
_WORDS = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, strip diacritics, and map đ to d: fold("Nước mắm Đồ Sơn") == "nuoc mam do son".

    NFD does not decompose đ (it is a letter of its own, not d with a mark), so it is mapped by hand.
    """
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).lower()


def fold_words(text: str) -> str:
    """The folded words of `text`, one space apart: fold_words("Bánh đậu xanh (Rồng Vàng)") == "banh dau xanh rong vang".

    Stored this way, a search can match whole words with nothing but spaces around them.
    """
    return " ".join(_WORDS.findall(fold(text)))


def slugify(text: str) -> str:
    """slugify("Kiến Thụy") == "kien-thuy"."""
    return _SEPARATORS.sub("-", fold(text)).strip("-")
