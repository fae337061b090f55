"""The OpenSearch backend: the same matching and ranking as the built-in one (search.query), on a cluster.

The index is a concrete index `<alias>-<stamp>` behind an alias; a rebuild fills a new one and swaps the alias
in one atomic call, so readers never see a half-built index. Documents carry words already folded by
core.text, indexed with a whitespace tokenizer only, so the cluster's lexemes are exactly the built-in's, and
queries only ever send those folded [a-z0-9] words as term queries: nothing a shopper types reaches a query
parser.

Typos: a query word no document holds (of MIN_FUZZY_LENGTH letters or more) is read as its one-edit
neighbours, as the built-in backend does. The term suggester (suggest_mode "missing") says which words are
unknown and what their neighbours are; it rides along with the search, and only when it finds a correction is
the search run again with the corrections (a query without typos costs one request).
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from uuid import uuid4

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import NotFoundError, RequestError

from search.query import (
    ACCENT_TIER,
    MIN_FUZZY_LENGTH,
    MIN_SUGGEST_LENGTH,
    NAME_TIER,
    SearchQuery,
    SearchResult,
    empty_facets,
)

if TYPE_CHECKING:  # the documents module needs the ORM; the client alone (/health) must not
    from search.documents import Document

#: Folds case and diacritics (asciifolding maps đ → d too), the same fold core.text.fold applies.
#: `folded_words` indexes text core.text has folded and split already: only whitespace separates its words.
VIETNAMESE_ANALYSIS = {
    "analyzer": {
        "vi_folded": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
        "folded_words": {"type": "custom", "tokenizer": "whitespace"},
    },
}

_WORDS = {"type": "text", "analyzer": "folded_words", "norms": False, "index_options": "docs"}
PRODUCT_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "product_id": {"type": "integer"},
        "name": {"type": "keyword"},
        "sort_name": {"type": "keyword"},
        "name_words": {**_WORDS, "copy_to": "words"},
        "body_words": {**_WORDS, "copy_to": "words"},
        #: Name and body together: what a query word must be found in, and what the typo suggester reads.
        "words": _WORDS,
        "accented_words": _WORDS,
        "group": {"type": "integer"},
        "stars": {"type": "byte"},
        "price_vnd": {"type": "long"},
        "district": {"type": "keyword"},
        "outlets": {"type": "integer"},
        "issued_on": {"type": "date", "format": "date"},
        "expires_on": {"type": "date", "format": "date"},
    },
}
#: Enough buckets for every group, star, district and outlet there is.
FACET_SIZE = 1000
#: Neighbours asked of the suggester per unknown word (the built-in backend takes them all).
MAX_CORRECTIONS = 50
#: Group facets are counted by the document's field of the same name.
_FACET_FIELDS = {"group": "group", "stars": "stars", "district": "district", "outlet": "outlets"}


def client_for(search_url: str, timeout: float = 5.0) -> OpenSearch:
    """`opensearch://host:9200` (or http://…) → a client; raises ValueError for anything else."""
    parts = urlsplit(search_url)
    if parts.scheme not in ("opensearch", "http", "https") or not parts.hostname:
        raise ValueError(f"SEARCH_URL must look like opensearch://host:9200, not {search_url!r}")
    return OpenSearch(
        hosts=[{"host": parts.hostname, "port": parts.port or 9200}],
        use_ssl=parts.scheme == "https",
        timeout=timeout,
        max_retries=0,
        retry_on_timeout=False,
    )


def index_settings(mappings: dict) -> dict:
    """Body for indices.create: a single node keeps no replicas."""
    return {
        "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0}, "analysis": VIETNAMESE_ANALYSIS},
        "mappings": mappings,
    }


def _source(document: "Document") -> dict:
    return {
        "product_id": document.product_id,
        "name": document.name,
        "sort_name": document.sort_name,
        "name_words": document.name_words,
        "body_words": document.body_words,
        "accented_words": document.accented_words,
        "group": document.group,
        "stars": document.stars,
        "price_vnd": document.price_vnd,
        "district": document.district,
        "outlets": list(document.outlets),
        "issued_on": document.issued_on.isoformat(),
        "expires_on": document.expires_on.isoformat(),
    }


def _all_of(field: str, words: Iterable[str], prefix_last: bool = False) -> dict:
    """Every word is a term of `field` (the last one may be the start of a term)."""
    words = list(words)
    clauses = [{"term": {field: word}} for word in words]
    if prefix_last and words:
        clauses[-1] = {"prefix": {field: words[-1]}}
    return {"bool": {"filter": clauses}}


def _tier(filter_: dict, points: int) -> dict:
    return {"constant_score": {"filter": filter_, "boost": points}}


class OpenSearchBackend:
    name = "opensearch"

    def __init__(self, client: OpenSearch, alias: str = "ocop-products", refresh: bool = True):
        self.client = client
        self.alias = alias
        #: Refresh after each write, so what a worker sends is searchable when it returns: tens of ms on the node,
        #: where refresh="wait_for" holds every write until the next scheduled refresh (about a second).
        self.refresh = refresh

    # --- writing -------------------------------------------------------------------------------------------

    def index(self, documents: Sequence["Document"]) -> None:
        if not documents:
            return
        actions = [
            {"_op_type": "index", "_index": self.alias, "_id": d.product_id, "_source": _source(d)} for d in documents
        ]
        try:
            self._write(actions)
        except helpers.BulkIndexError as error:
            if not all(_alias_missing(item) for item in error.errors):
                raise
            self._create_first_index()
            self._write(actions)

    def delete(self, product_ids: Iterable[int]) -> None:
        ids = sorted(set(product_ids))
        if ids:
            # 404: the document, or the whole index, is not there; either way it is gone.
            self._write([{"_op_type": "delete", "_index": self.alias, "_id": i} for i in ids], ignore_status=(404,))

    def rebuild(self, batches: Iterable[Sequence["Document"]], progress: Callable[[int], None] | None = None) -> int:
        """Fills a new index (no refreshes while it fills), then points the alias at it and drops the old one."""
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        new_index = f"{self.alias}-{stamp}-{uuid4().hex[:6]}"
        body = index_settings(PRODUCT_MAPPINGS)
        body["settings"]["index"]["refresh_interval"] = "-1"
        self.client.indices.create(index=new_index, body=body)
        count = 0
        try:
            for documents in batches:
                if documents:
                    helpers.bulk(
                        self.client,
                        ({"_index": new_index, "_id": d.product_id, "_source": _source(d)} for d in documents),
                        chunk_size=1000,
                        max_retries=0,
                    )
                count += len(documents)
                if progress:
                    progress(len(documents))
            self.client.indices.put_settings(index=new_index, body={"index": {"refresh_interval": None}})
            self.client.indices.refresh(index=new_index)
            old_indices = self._indices_behind_alias()
            self.client.indices.update_aliases(
                body={
                    "actions": [
                        *({"remove": {"index": old, "alias": self.alias}} for old in old_indices),
                        {"add": {"index": new_index, "alias": self.alias}},
                    ]
                }
            )
        except BaseException:
            self.client.indices.delete(index=new_index, ignore=[404])
            raise
        for old in old_indices:
            self.client.indices.delete(index=old, ignore=[404])
        return count

    def drop(self) -> None:
        """Deletes the alias and every index behind it (tests; a cluster being retired)."""
        for index in self._indices_behind_alias():
            self.client.indices.delete(index=index, ignore=[404])

    def document_ids(self) -> set[int]:
        if not self._indices_behind_alias():
            return set()
        return {
            int(hit["_id"])
            for hit in helpers.scan(
                self.client, index=self.alias, query={"_source": False, "sort": ["_doc"]}, size=5000
            )
        }

    def _write(self, actions: list[dict], ignore_status: tuple = ()) -> None:
        # require_alias: a write before any index exists must fail, not auto-create an index without mappings.
        helpers.bulk(self.client, actions, max_retries=0, ignore_status=ignore_status, require_alias="true")
        if self.refresh:
            self.client.indices.refresh(index=self.alias, ignore_unavailable=True)

    def _create_first_index(self) -> None:
        """The index behind the alias when documents arrive before any rebuild; a fixed name, so two workers
        racing to create it end with one index rather than an alias over two."""
        first = f"{self.alias}-first"
        try:
            self.client.indices.create(
                index=first, body={**index_settings(PRODUCT_MAPPINGS), "aliases": {self.alias: {}}}
            )
        except RequestError as error:
            if error.error != "resource_already_exists_exception":
                raise
            self.client.indices.put_alias(index=first, name=self.alias)

    def _indices_behind_alias(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    # --- reading -------------------------------------------------------------------------------------------

    def search(self, query: SearchQuery, today: date) -> SearchResult:
        facets = empty_facets() if query.with_facets else {}
        if query.is_blank:
            return SearchResult(ids=[], total=0, facets=facets)
        words = query.words
        fuzzy = sorted({w for w in words if len(w) >= MIN_FUZZY_LENGTH})
        body = self._search_body(query, today, {})
        if fuzzy:
            body["suggest"] = {
                "text": " ".join(fuzzy),
                "typos": {
                    "term": {
                        "field": "words",
                        "suggest_mode": "missing",
                        "max_edits": 1,
                        "prefix_length": 0,
                        "min_word_length": MIN_FUZZY_LENGTH,
                        "size": MAX_CORRECTIONS,
                        "max_inspections": 5,
                    }
                },
            }
        response = self.client.search(index=self.alias, body=body)
        corrections = _corrections(response.get("suggest", {}).get("typos", []))
        did_you_mean = None
        if corrections:
            response = self.client.search(index=self.alias, body=self._search_body(query, today, corrections))
            corrected = [_most_held(corrections[w]) if w in corrections else w for w in words]
            did_you_mean = " ".join(corrected)
        hits = response["hits"]["hits"]
        ids = [int(hit["_id"]) for hit in hits]
        if query.with_facets:
            facets = _facets(response["aggregations"])
        return SearchResult(
            ids=ids,
            total=response["hits"]["total"]["value"],
            facets=facets,
            in_stock={int(hit["_id"]) for hit in hits if hit["_source"].get("outlets")},
            did_you_mean=did_you_mean,
        )

    def suggest(self, q: str, today: date, limit: int = 8) -> list[str]:
        query = SearchQuery(q=q)
        words = query.words
        if sum(len(word) for word in words) < MIN_SUGGEST_LENGTH:
            return []
        should = [_tier(_all_of("name_words", words, prefix_last=True), NAME_TIER)]
        if query.accented:
            should.append(_tier(_all_of("accented_words", query.accented, prefix_last=True), ACCENT_TIER))
        body = {
            "size": limit,
            "_source": ["name"],
            "track_total_hits": False,
            "query": {
                "bool": {"filter": [*_valid_on(today), _all_of("words", words, prefix_last=True)], "should": should}
            },
            "sort": ["_score", {"stars": "desc"}, {"sort_name": "asc"}, {"product_id": "asc"}],
            # One suggestion per name: two producers may sell the same name.
            "collapse": {"field": "name"},
        }
        hits = self.client.search(index=self.alias, body=body)["hits"]["hits"]
        return list(dict.fromkeys(hit["_source"]["name"] for hit in hits))[:limit]

    def _search_body(self, query: SearchQuery, today: date, corrections: dict[str, dict[str, int]]) -> dict:
        words = query.words
        matching = [
            *_valid_on(today),
            *({"terms": {"words": [word, *sorted(corrections.get(word, ()))]}} for word in words),
        ]
        if query.min_price is not None or query.max_price is not None:
            matching.append(
                {
                    "range": {
                        "price_vnd": {
                            key: value
                            for key, value in (("gte", query.min_price), ("lte", query.max_price))
                            if value is not None
                        }
                    }
                }
            )
        should = []
        if words:
            # A corrected word matches the name through its corrections, as it matches the document.
            should.append(
                _tier(
                    {
                        "bool": {
                            "filter": [
                                {"terms": {"name_words": [word, *sorted(corrections.get(word, ()))]}} for word in words
                            ]
                        }
                    },
                    NAME_TIER,
                )
            )
            if query.accented:
                should.append(_tier(_all_of("accented_words", query.accented), ACCENT_TIER))
        chosen = _choices(query)
        body = {
            "from": query.offset,
            "size": query.per_page,
            "_source": ["outlets"],
            "track_total_hits": True,
            "query": {"bool": {"filter": matching, "should": should}},
            "sort": _order(query),
        }
        if chosen:
            body["post_filter"] = {"bool": {"filter": list(chosen.values())}}
        if query.with_facets:
            body["aggs"] = {
                name: {
                    "filter": {"bool": {"filter": [c for other, c in chosen.items() if other != name]}},
                    "aggs": {"keys": {"terms": {"field": _FACET_FIELDS[name], "size": FACET_SIZE}}},
                }
                for name in _FACET_FIELDS
            }
        return body


def _valid_on(today: date) -> list[dict]:
    return [{"range": {"issued_on": {"lte": today.isoformat()}}}, {"range": {"expires_on": {"gt": today.isoformat()}}}]


def _choices(query: SearchQuery) -> dict[str, dict]:
    """The shopper's choices by facet: each facet's count leaves its own choice out."""
    chosen = {}
    if query.groups:
        chosen["group"] = {"terms": {"group": list(query.groups)}}
    if query.stars:
        chosen["stars"] = {"terms": {"stars": list(query.stars)}}
    if query.districts:
        chosen["district"] = {"terms": {"district": list(query.districts)}}
    if query.in_stock:
        chosen["outlet"] = (
            {"exists": {"field": "outlets"}} if query.outlet_id is None else {"term": {"outlets": query.outlet_id}}
        )
    return chosen


def _order(query: SearchQuery) -> list:
    by_name = [{"sort_name": "asc"}, {"product_id": "asc"}]
    if query.sort == "relevance" and query.words:
        return ["_score", {"stars": "desc"}, *by_name]
    first = {
        "price_asc": {"price_vnd": "asc"},
        "price_desc": {"price_vnd": "desc"},
        "newest": {"issued_on": "desc"},
    }.get(query.sort, {"stars": "desc"})
    return [first, *by_name]


def _corrections(suggestions: list[dict]) -> dict[str, dict[str, int]]:
    """{unknown word: {correction: documents holding it}} from the term suggester's answer."""
    return {
        entry["text"]: {option["text"]: option["freq"] for option in entry["options"]}
        for entry in suggestions
        if entry["options"]
    }


def _most_held(found: dict[str, int]) -> str:
    """The correction the most documents hold; then the shortest, then the first alphabetically (as built-in)."""
    return max(found, key=lambda term: (found[term], -len(term), [-ord(c) for c in term]))


def _facets(aggregations: dict) -> dict[str, dict[str, int]]:
    return {
        name: dict(
            sorted((str(bucket["key"]), bucket["doc_count"]) for bucket in aggregations[name]["keys"]["buckets"])
        )
        for name in _FACET_FIELDS
    }


def _alias_missing(item: dict) -> bool:
    result = next(iter(item.values()))
    return result.get("status") == 404 and result.get("error", {}).get("type") == "index_not_found_exception"
