"""Vietnamese text folding shared by search (index and query alike), slugs and facets."""

import re
import unicodedata

_SEPARATORS = re.compile(r"[^a-z0-9]+")
_WORDS = re.compile(r"[a-z0-9]+")
#: Letters and digits of any script: the words of text kept with its accents.
_ACCENTED_WORDS = re.compile(r"[^\W_]+")
#: Letters no Unicode normalisation turns into d: đ/Đ are letters of their own, and the Icelandic eth Ð (U+00D0,
#: drawn exactly like Đ) and ð arrive from keyboards and copied text meaning the same.
_D_LIKE = str.maketrans({"đ": "d", "Đ": "D", "Ð": "D", "ð": "d"})
_D_LIKE_ACCENTED = str.maketrans({"Ð": "đ", "ð": "đ"})


def fold(text: str) -> str:
    """Lower-case, strip diacritics, and map đ to d: fold("Nước mắm Đồ Sơn") == "nuoc mam do son".

    NFKC first, so fullwidth letters (ｎｕｏｃ) and compatibility forms read as the plain ones; NFD then splits the
    marks off. NFD does not decompose đ (it is a letter of its own, not d with a mark), so it is mapped by hand.
    """
    text = unicodedata.normalize("NFKC", text).translate(_D_LIKE)
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).lower()


def fold_words(text: str) -> str:
    """The folded words of `text`, one space apart:
    fold_words("Bánh đậu xanh (Rồng Vàng)") == "banh dau xanh rong vang".

    Stored this way, a search can match whole words with nothing but spaces around them.
    """
    return " ".join(_WORDS.findall(fold(text)))


def accented_words(text: str) -> str:
    """The words of `text` lower-cased with their accents kept: accented_words("ĐƯỜNG phèn!") == "đường phèn".

    Search ranks a product whose words match the query's accents exactly above one that matches only folded.
    """
    text = unicodedata.normalize("NFKC", text).translate(_D_LIKE_ACCENTED)
    return " ".join(_ACCENTED_WORDS.findall(unicodedata.normalize("NFC", text.lower())))


def slugify(text: str) -> str:
    """slugify("Kiến Thụy") == "kien-thuy"."""
    return _SEPARATORS.sub("-", fold(text)).strip("-")
