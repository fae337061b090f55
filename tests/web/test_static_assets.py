"""Static files (issue 20): linked under content-hashed names, kept a year by browsers, sent compressed."""

import gzip
import re
from pathlib import Path

import brotli
import pytest

from storefront.static_assets import build_manifest
from tests.factories import make_outlet

STATIC = Path(__file__).resolve().parents[2] / "storefront" / "static"
HASHED = re.compile(r"/static/(?:[\w-]+/)*[\w-]+\.[0-9a-f]{12}\.\w+")
YEAR = "public, max-age=31536000, immutable"


@pytest.fixture
def database_url(sqlite_url):
    """The files are the same whatever the database."""
    return sqlite_url


def static_links(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_pages_link_hashed_files_that_browsers_keep_for_a_year(client):
    links = static_links(client.get("/").get_data(as_text=True))
    assert {HASHED.fullmatch(link) is not None for link in links} == {True}, links
    stylesheet = next(link for link in links if "/css/site." in link)
    answer = client.get(stylesheet)
    assert answer.status_code == 200 and answer.mimetype == "text/css"
    assert answer.headers["Cache-Control"] == YEAR
    assert "Content-Encoding" not in answer.headers  # not asked for
    assert answer.data == (STATIC / "css" / "site.css").read_bytes()
    # The plain address still answers (a page cached before a change), for a short while only.
    plain = client.get("/static/css/site.css")
    assert plain.status_code == 200 and plain.data == answer.data
    assert plain.headers["Cache-Control"] == "public, max-age=300"
    # The browser's copy is revalidated with its ETag.
    again = client.get(stylesheet, headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize(
    "accept, encoding",
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("identity", None),
        ("", None),
    ],
)
def test_text_files_come_compressed_as_the_browser_asks(app, client, accept, encoding):
    with app.test_request_context():
        from flask import url_for

        script = url_for("static", filename="js/suggest.js")
    answer = client.get(script, headers={"Accept-Encoding": accept})
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    assert answer.headers.get("Content-Encoding") == encoding
    assert answer.vary.as_set() == {"accept-encoding"}  # not Cookie: the file is the same for every visitor
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](answer.data)
    assert decoded == (STATIC / "js" / "suggest.js").read_bytes()
    assert int(answer.headers["Content-Length"]) == len(answer.data)
    if encoding:
        assert len(answer.data) < len(decoded) / 2


def test_a_changed_file_gets_a_new_address_and_an_unchanged_one_keeps_its_own(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("body { color: black }")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    before = build_manifest(tmp_path)
    (tmp_path / "css" / "site.css").write_text("body { color: navy }")
    after = build_manifest(tmp_path)
    old, new = before.by_name["css/site.css"].hashed, after.by_name["css/site.css"].hashed
    assert old != new and re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", new)
    assert after.by_hashed[new].body == b"body { color: navy }" and old not in after.by_hashed
    assert before.by_name["favicon.svg"].hashed == after.by_name["favicon.svg"].hashed
    assert before.version != after.version  # a page cache keyed on it links the new file


@pytest.mark.parametrize(
    "path",
    [
        "/static/css/site.0123456789ab.css",  # a hash that is not the file's
        "/static/css/site.b03faeb924c0.js",
        "/static/css/nothing.css",
        "/static/../pyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/css/..%2f..%2f__init__.py",
        "/static//etc/passwd",  # redirected to /static/etc/passwd first
        "/static/css/",
    ],
)
def test_nothing_else_is_served_from_static(client, path):
    assert client.get(path, follow_redirects=True).status_code == 404


def test_the_kiosk_keeps_for_offline_use_the_very_files_its_page_links(client, session):
    make_outlet(session, "hoi-cho-tinh", kind="fair")
    session.commit()
    links = static_links(client.get("/kiosk/hoi-cho-tinh").get_data(as_text=True))
    assert len(links) == 3 and all(HASHED.fullmatch(link) for link in links), links
    worker = client.get("/kiosk/sw.js", headers={"Accept-Encoding": "gzip"})
    assert worker.headers["Cache-Control"] == "no-cache" and worker.headers["Content-Encoding"] == "gzip"
    (precache,) = re.findall(r"const PRECACHE = \[([^\]]*)\]", gzip.decompress(worker.data).decode())
    assert sorted(re.findall(r"'([^']+)'", precache)) == sorted(links)
    for link in links:
        assert client.get(link).headers["Cache-Control"] == YEAR
    icon = client.get("/kiosk/hoi-cho-tinh/manifest.webmanifest").get_json(force=True)["icons"][0]["src"]
    assert HASHED.fullmatch(icon) and client.get(icon).status_code == 200
