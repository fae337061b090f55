"""The built-in backend: documents in the shop's own database, matched by SQLite FTS5 or PostgreSQL full text.

It lives in the same transaction as the change it reflects (search.indexing keeps it), so what a request
commits is searchable at once, and it is what search falls back to when the cluster is away.

Words are matched as whole lexemes on both databases: the documents' words are already folded and split
(core.text), so FTS5 tokenizes them as they are and PostgreSQL builds its tsvector from the word list without
its parser (array_to_tsvector), which would split "500ml" in two.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    literal_column,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from search.documents import Document
from search.fuzzy import deletions, within_one_edit
from search.models import SearchDocument, SearchDocumentOutlet, SearchTerm, SearchTermVariant
from search.query import (
    ACCENT_TIER,
    MIN_FUZZY_LENGTH,
    MIN_SUGGEST_LENGTH,
    NAME_TIER,
    SearchQuery,
    SearchResult,
    empty_facets,
)

D = SearchDocument
OUTLETS = SearchDocumentOutlet
#: On PostgreSQL the words are tsvectors built from the word lists (array_to_tsvector), kept by the database in
#: stored generated columns, the whole text's under a GIN index. (The name has a column of its own: a tsvector
#: built from a word list has no positions, and weights live on positions.)
#: Stored generated columns of the migration, so no row's words are split again at query time.
PG_WORDS = "search_documents.words_tsv"
PG_NAME_WORDS = "search_documents.name_tsv"
#: The FTS5 table as the migration makes it (words arrive folded and split, so the tokenizer does nothing more).
SQLITE_FTS_TABLE = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(name_words, body_words, "
    "tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')"
)
#: Terms shorter than this are never a typo correction (a query word needs MIN_FUZZY_LENGTH letters, and a
#: correction is at most one letter shorter).
MIN_TERM_LENGTH = MIN_FUZZY_LENGTH - 1


def settle_after_rebuild(engine) -> None:
    """PostgreSQL, after a rebuild: what autovacuum would do a little later, done at once (fresh planner
    statistics, and a visibility map so counts read the indexes alone). Not SQLite: its planner picks the
    covering indexes without statistics, and measured slower with them (bench/search.py)."""
    if engine.dialect.name != "postgresql":
        return
    tables = ("search_documents", "search_document_outlets", "search_terms", "search_term_variants")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.execute(text(f"VACUUM ANALYZE {table}"))


@dataclass(frozen=True)
class Term:
    word: str
    prefix: bool = False


#: Per query word, the terms any one of which matches it.
Alternatives = list[list[Term]]


class BuiltinBackend:
    name = "builtin"

    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # --- writing -------------------------------------------------------------------------------------------

    def index(self, documents: Sequence[Document]) -> None:
        if not documents:
            return
        ids = [d.product_id for d in documents]
        old_terms = self._terms_of(ids)
        self._remove_rows(ids)
        self._insert_rows(documents)
        new_terms = Counter(term for d in documents for term in set(f"{d.name_words} {d.body_words}".split()))
        new_terms.subtract(old_terms)
        self._count_terms(new_terms)

    def delete(self, product_ids: Iterable[int]) -> None:
        ids = sorted(set(product_ids))
        if not ids:
            return
        old_terms = self._terms_of(ids)
        self._remove_rows(ids)
        self._count_terms(Counter({term: -n for term, n in old_terms.items()}))

    def set_outlets(self, outlets_by_product: dict[int, tuple[int, ...]]) -> set[int]:
        """Replaces where each indexed product is available; returns the products whose answer changed."""
        if not outlets_by_product:
            return set()
        ids = sorted(outlets_by_product)
        stored: dict[int, set[int]] = {i: set() for i in ids}
        for product_id, outlet_id in self.session.execute(
            select(OUTLETS.product_id, OUTLETS.outlet_id).where(OUTLETS.product_id.in_(ids))
        ):
            stored[product_id].add(outlet_id)
        indexed = set(self.session.scalars(select(D.product_id).where(D.product_id.in_(ids))))
        changed = {i for i in ids if i in indexed and stored[i] != set(outlets_by_product[i])}
        for product_id in sorted(changed):
            outlets = outlets_by_product[product_id]
            self.session.execute(delete(OUTLETS).where(OUTLETS.product_id == product_id))
            if outlets:
                self.session.execute(
                    OUTLETS.__table__.insert(), [{"product_id": product_id, "outlet_id": o} for o in outlets]
                )
            self.session.execute(update(D).where(D.product_id == product_id).values(in_stock=bool(outlets)))
        return changed

    def rebuild(self, batches: Iterable[Sequence[Document]], progress: Callable[[int], None] | None = None) -> int:
        """In the caller's transaction: readers see the old index until it commits."""
        self._clear()
        terms: Counter = Counter()
        count = 0
        for documents in batches:
            self._insert_rows(documents)
            terms.update(term for d in documents for term in set(f"{d.name_words} {d.body_words}".split()))
            count += len(documents)
            if progress:
                progress(len(documents))
        self._count_terms(terms)
        return count

    def document_ids(self) -> set[int]:
        return set(self.session.scalars(select(D.product_id)))

    def _clear(self) -> None:
        for table in (OUTLETS, D, SearchTerm, SearchTermVariant):
            self.session.execute(delete(table))
        if self.dialect == "sqlite":
            # Dropping the FTS table and making it again is much faster than deleting every row from it.
            self.session.execute(text("DROP TABLE search_fts"))
            self.session.execute(text(SQLITE_FTS_TABLE))

    def _terms_of(self, ids: list[int]) -> Counter:
        terms: Counter = Counter()
        for name_words, body_words in self.session.execute(
            select(D.name_words, D.body_words).where(D.product_id.in_(ids))
        ):
            terms.update(set(f"{name_words} {body_words}".split()))
        return terms

    def _remove_rows(self, ids: list[int]) -> None:
        self.session.execute(delete(OUTLETS).where(OUTLETS.product_id.in_(ids)))
        self.session.execute(delete(D).where(D.product_id.in_(ids)))
        if self.dialect == "sqlite":
            self.session.execute(
                text("DELETE FROM search_fts WHERE rowid IN (SELECT value FROM json_each(:ids))"),
                {"ids": "[" + ",".join(map(str, ids)) + "]"},
            )

    def _insert_rows(self, documents: Sequence[Document]) -> None:
        if not documents:
            return
        self.session.execute(
            D.__table__.insert(),
            [
                {
                    "product_id": d.product_id,
                    "name": d.name,
                    "sort_name": d.sort_name,
                    "group_code": d.group,
                    "stars": d.stars,
                    "price_vnd": d.price_vnd,
                    "district": d.district,
                    "issued_on": d.issued_on,
                    "expires_on": d.expires_on,
                    "in_stock": bool(d.outlets),
                    "name_words": d.name_words,
                    "body_words": d.body_words,
                    "accented_words": d.accented_words,
                }
                for d in documents
            ],
        )
        outlets = [{"product_id": d.product_id, "outlet_id": o} for d in documents for o in d.outlets]
        if outlets:
            self.session.execute(OUTLETS.__table__.insert(), outlets)
        if self.dialect == "sqlite":
            self.session.execute(
                text("INSERT INTO search_fts (rowid, name_words, body_words) VALUES (:id, :n, :b)"),
                [{"id": d.product_id, "n": d.name_words, "b": d.body_words} for d in documents],
            )

    def _count_terms(self, changes: Counter) -> None:
        """Adds each change to its term's document count; new terms get their one-deletion variants."""
        changes = {term: n for term, n in changes.items() if n and len(term) >= MIN_TERM_LENGTH}
        if not changes:
            return
        insert = postgresql_insert if self.dialect == "postgresql" else sqlite_insert
        # In term order, so two transactions counting the same words never wait on each other in a cycle.
        rows = [{"term": term, "documents": n} for term, n in sorted(changes.items())]
        statement = insert(SearchTerm)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["term"], set_={"documents": SearchTerm.documents + statement.excluded.documents}
            ),
            rows,
        )
        added = [term for term, n in sorted(changes.items()) if n > 0]
        variants = sorted({(variant, term) for term in added for variant in deletions(term)})
        for start in range(0, len(variants), 5000):
            self.session.execute(
                insert(SearchTermVariant).on_conflict_do_nothing(),
                [{"variant": v, "term": t} for v, t in variants[start : start + 5000]],
            )

    # --- reading -------------------------------------------------------------------------------------------

    def search(self, query: SearchQuery, today: date) -> SearchResult:
        facets = empty_facets() if query.with_facets else {}
        if query.is_blank:
            return SearchResult(ids=[], total=0, facets=facets)
        words = query.words
        alternatives, did_you_mean = self._alternatives(words)
        matching = [D.issued_on <= today, D.expires_on > today]
        if words:
            matching.append(self._matches(alternatives))
        if query.min_price is not None:
            matching.append(D.price_vnd >= query.min_price)
        if query.max_price is not None:
            matching.append(D.price_vnd <= query.max_price)
        chosen = self._choices(query)
        page_filter = [*matching, *chosen.values()]
        page = self.session.execute(
            select(D.product_id, D.in_stock)
            .where(*page_filter)
            .order_by(*self._order(query, alternatives))
            .limit(query.per_page)
            .offset(query.offset)
        ).all()
        ids = [product_id for product_id, _ in page]
        if query.with_facets:
            total, facets = self._facets(matching, chosen)
        else:
            total = self.session.scalar(select(func.count()).select_from(D).where(*page_filter)) or 0
        in_stock = {product_id for product_id, stocked in page if stocked}
        return SearchResult(ids=ids, total=total, facets=facets, in_stock=in_stock, did_you_mean=did_you_mean)

    def suggest(self, q: str, today: date, limit: int = 8) -> list[str]:
        query = SearchQuery(q=q)
        words = query.words
        if sum(len(word) for word in words) < MIN_SUGGEST_LENGTH:
            return []
        alternatives = [[Term(word)] for word in words[:-1]] + [[Term(words[-1], prefix=True)]]
        rows = self.session.execute(
            select(D.name, self._tier(alternatives, query.accented, prefix=True).label("tier"))
            .where(D.issued_on <= today, D.expires_on > today, self._matches(alternatives))
            .order_by(literal_column("tier").desc(), D.stars.desc(), D.sort_name, D.product_id)
            .limit(limit * 2)
        )
        return list(dict.fromkeys(name for name, _ in rows))[:limit]

    def _alternatives(self, words: list[str]) -> tuple[Alternatives, str | None]:
        """Each word, with the known terms one edit away when the word itself is unknown (and has
        MIN_FUZZY_LENGTH letters or more), and the query with every unknown word replaced by its most frequent
        correction, if that changes anything."""
        fuzzy = [w for w in dict.fromkeys(words) if len(w) >= MIN_FUZZY_LENGTH]
        found: dict[str, dict[str, int]] = {w: {} for w in fuzzy}
        if fuzzy:
            variants = {v: [w for w in fuzzy if v in deletions(w)] for w in fuzzy for v in deletions(w)}
            rows = self.session.execute(
                select(SearchTermVariant.variant, SearchTerm.term, SearchTerm.documents)
                .join(SearchTerm, SearchTerm.term == SearchTermVariant.term)
                .where(SearchTermVariant.variant.in_(sorted(variants)), SearchTerm.documents > 0)
            )
            for variant, term, documents in rows:
                for word in variants[variant]:
                    if within_one_edit(word, term):
                        found[word][term] = documents
        # A word the index knows is taken as meant; only an unknown one is read as a typo of its neighbours.
        alternatives = [
            [Term(w)] + ([Term(t) for t in sorted(found[w])] if w in found and w not in found[w] else []) for w in words
        ]
        corrected = [
            w
            if w not in found or w in found[w] or not found[w]
            else max(found[w], key=lambda t: (found[w][t], -len(t), [-ord(c) for c in t]))
            for w in words
        ]
        return alternatives, (" ".join(corrected) if corrected != words else None)

    def _matches(self, alternatives: Alternatives, name_only: bool = False):
        """SQL: the document has, for every word, one of its terms (in its name only, with `name_only`)."""
        if self.dialect == "sqlite":
            expression = " AND ".join(
                "(" + " OR ".join(f'"{t.word}"' + ("*" if t.prefix else "") for t in terms) + ")"
                for terms in alternatives
            )
            expression = f"{{{'name_words' if name_only else 'name_words body_words'}}} : ({expression})"
            hits = (
                select(literal_column("rowid"))
                .select_from(text("search_fts"))
                .where(literal_column("search_fts").op("MATCH")(literal(expression)))
            )
            return D.product_id.in_(hits)
        expression = " & ".join(
            "(" + " | ".join(f"'{t.word}'" + (":*" if t.prefix else "") for t in terms) + ")" for terms in alternatives
        )
        words = PG_NAME_WORDS if name_only else PG_WORDS
        return literal_column(words).op("@@")(cast(literal(expression), TSQUERY))

    def _tier(self, alternatives: Alternatives, accented: list[str], prefix: bool = False):
        """SQL: the relevance tier of search.query (name, accents)."""
        tier = case((self._matches(alternatives, name_only=True), NAME_TIER), else_=0)
        if accented:
            padded = literal(" ") + D.accented_words + literal(" ")
            accents = and_(
                *(
                    padded.like(f"% {word}{'%' if prefix and i == len(accented) - 1 else ' %'}")
                    for i, word in enumerate(accented)
                )
            )
            tier = tier + case((accents, ACCENT_TIER), else_=0)
        return tier

    def _order(self, query: SearchQuery, alternatives: Alternatives):
        by_name = (D.sort_name, D.product_id)
        if query.sort == "relevance" and alternatives:
            return (self._tier(alternatives, query.accented).desc(), D.stars.desc(), *by_name)
        return {
            "price_asc": (D.price_vnd.asc(), *by_name),
            "price_desc": (D.price_vnd.desc(), *by_name),
            "newest": (D.issued_on.desc(), *by_name),
        }.get(query.sort, (D.stars.desc(), *by_name))

    @staticmethod
    def _choices(query: SearchQuery) -> dict:
        """The shopper's choices by facet: each facet's count leaves its own choice out."""
        chosen = {}
        if query.groups:
            chosen["group"] = D.group_code.in_(query.groups)
        if query.stars:
            chosen["stars"] = D.stars.in_(query.stars)
        if query.districts:
            chosen["district"] = D.district.in_(query.districts)
        if query.in_stock:
            chosen["outlet"] = (
                D.in_stock.is_(True)
                if query.outlet_id is None
                else exists().where(OUTLETS.product_id == D.product_id, OUTLETS.outlet_id == query.outlet_id)
            )
        return chosen

    def _facets(self, matching: list, chosen: dict) -> tuple[int, dict[str, dict[str, int]]]:
        """The total and every facet, in one statement (a UNION ALL of grouped counts, each row tagged with the
        count it belongs to). One grouped count serves the total and each facet not chosen; a chosen facet is
        counted again without its own choice; the outlet facet counts the outlets' documents."""

        def others(skip: str) -> list:
            return [*matching, *(c for name, c in chosen.items() if name != skip)]

        def grouped(tag: str):
            return (
                select(
                    literal(tag).label("tag"),
                    D.group_code,
                    D.stars,
                    D.district,
                    cast(null(), Integer).label("outlet_id"),
                    func.count().label("n"),
                )
                .where(*others(tag))
                .group_by(D.group_code, D.stars, D.district)
            )

        by_outlet = (
            select(
                literal("outlet").label("tag"),
                cast(null(), Integer),
                cast(null(), Integer),
                cast(null(), String),
                OUTLETS.outlet_id,
                func.count(),
            )
            .join(D, D.product_id == OUTLETS.product_id)
            .where(*others("outlet"))
            .group_by(OUTLETS.outlet_id)
        )
        recounted = [name for name in ("group", "stars", "district") if name in chosen]
        parts = [grouped(""), *(grouped(name) for name in recounted), by_outlet]
        counts: dict[str, dict[str, dict[str, int]]] = {
            tag: {"group": {}, "stars": {}, "district": {}} for tag in ("", *recounted)
        }
        outlets: dict[str, int] = {}
        for tag, group, stars, district, outlet, n in self.session.execute(union_all(*parts)):
            if tag == "outlet":
                outlets[str(outlet)] = n
                continue
            for facet, key in (("group", group), ("stars", stars), ("district", district)):
                if key is not None:
                    counts[tag][facet][str(key)] = counts[tag][facet].get(str(key), 0) + n
        everything = counts[""]
        total = sum(everything["group"].values())
        facets = {name: counts[name][name] if name in chosen else everything[name] for name in everything}
        facets["outlet"] = outlets
        return total, {name: dict(sorted(found.items())) for name, found in facets.items()}
