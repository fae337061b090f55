"""What a catalogue search asks and answers, the same for every backend (DESIGN §3 keys and sorts).

Matching, the same on every backend: the query is folded (core.text.fold_words) into words; a product matches
when each word is a word of its searchable text (name, producer, group and sub-group, origin commune, former
district in each of its names, description). A word no indexed product has, of MIN_FUZZY_LENGTH letters or more, is
read as a typo: it matches the indexed words one edit away (a letter wrong, missing, extra, or two neighbours
swapped), and `did_you_mean` offers the query with each such word replaced by its correction held by the most
products. Suggestions (suggest()) read the last word as the start of a word.

Relevance, the same on every backend: tiers first (NAME_TIER when every word matches the product's name, plus
ACCENT_TIER when the query has accents and every word matches with the accents as typed), then more stars, then
the name, then the id. (Typo matches need no tier of their own: a word is corrected only when no product holds
it, so the products of one query either all match as typed or all through a correction.)
"""

from dataclasses import dataclass, field

from core.text import accented_words, fold_words

SORTS = ("relevance", "price_asc", "price_desc", "stars", "newest")
FACETS = ("group", "stars", "district", "outlet")
MIN_FUZZY_LENGTH = 4
#: Suggestions start once this many letters or digits are typed.
MIN_SUGGEST_LENGTH = 3
NAME_TIER, ACCENT_TIER = 2, 1


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    groups: tuple[int, ...] = ()
    stars: tuple[int, ...] = ()
    districts: tuple[str, ...] = ()
    #: With in_stock: available at this outlet; alone it filters nothing.
    outlet_id: int | None = None
    in_stock: bool = False
    min_price: int | None = None
    max_price: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 24
    #: Home shelves need no facet counts.
    with_facets: bool = True

    @property
    def words(self) -> list[str]:
        return fold_words(self.q).split()

    @property
    def accented(self) -> list[str]:
        """The words as typed (lower case, accents kept) when the query has accents at all; else none (an
        unaccented query ranks nothing above anything for its accents)."""
        words = accented_words(self.q).split()
        return words if words != self.words else []

    @property
    def is_blank(self) -> bool:
        """A query typed but holding no letter or digit: it finds nothing (never the whole catalogue)."""
        return bool(self.q.strip()) and not self.words

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class SearchResult:
    #: Product ids of the page, in order.
    ids: list[int]
    total: int
    #: {facet: {key as text: products}}; a facet ignores its own filter (DESIGN §3). Empty without facets.
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Ids (of this page) that some outlet has available, as the index knows it.
    in_stock: set[int] = field(default_factory=set)
    #: The query with its unknown words replaced by the closest known ones (folded), when there are such.
    did_you_mean: str | None = None


def empty_facets() -> dict[str, dict[str, int]]:
    return {name: {} for name in FACETS}
