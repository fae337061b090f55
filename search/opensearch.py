"""OpenSearch connection and the Vietnamese folding analysis shared by every index we create."""
from urllib.parse import urlsplit

from opensearchpy import OpenSearch

#: Folds case and diacritics (asciifolding maps đ → d too), the same fold core.text.fold applies.
VIETNAMESE_ANALYSIS = {
    "analyzer": {
        "vi_folded": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
    },
}


def client_for(search_url: str, timeout: float = 5.0) -> OpenSearch:
    """`opensearch://host:9200` (or http://…) → a client; raises ValueError for anything else."""
    parts = urlsplit(search_url)
    if parts.scheme not in ("opensearch", "http", "https") or not parts.hostname:
        raise ValueError(f"SEARCH_URL must look like opensearch://host:9200, not {search_url!r}")
    return OpenSearch(hosts=[{"host": parts.hostname, "port": parts.port or 9200}],
                      use_ssl=parts.scheme == "https", timeout=timeout, max_retries=0, retry_on_timeout=False)


def index_settings(mappings: dict) -> dict:
    """Body for indices.create: a single node keeps no replicas."""
    return {"settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0},
                         "analysis": VIETNAMESE_ANALYSIS},
            "mappings": mappings}
