"""A printed stamp sheet scans (issue 17 "Done when"): the PDF a producer downloads is rendered to PNG with poppler's
pdftoppm, and every QR on it is decoded with zbarimg (Debian zbar-tools) to the very Digital Link the API
promised, which biip reads back to the product's GTIN-14, the lot and the stamp's serial. pdftotext's word boxes
show that no text leaves its stamp, even with a 200-character product name.

Needs pdftoppm and pdftotext (poppler-utils) and zbarimg (zbar-tools): skipped without them, failed under
CI/REQUIRE_SERVICES (tests/conftest.py)."""

import re
import shutil
import subprocess
from datetime import date
from urllib.parse import parse_qs, urlsplit

import biip
import pytest
from PIL import Image

from catalog.batches import create_batch
from tests.conftest import missing_service
from tests.factories import bearer, make_producer, make_product, make_user, token_for
from traceability import sheets
from traceability.codes import StampKeys

PUBLIC_URL = "https://ocop.example"
GTIN = "08930000000019"
TOOLS = {"pdftoppm": "poppler-utils", "pdftotext": "poppler-utils", "zbarimg": "zbar-tools"}
LONG_NAME = (
    "Nước mắm cốt cá cơm than truyền thống Cát Hải thượng hạng đặc biệt, ủ chượp mười hai tháng trong thùng gỗ, "
    "đóng chai thủy tinh 500 ml, sản phẩm OCOP bốn sao của thành phố Hải Phòng năm hai nghìn không trăm hai mươi lăm"
)[:200]


@pytest.fixture
def tools():
    for tool, package in TOOLS.items():
        if shutil.which(tool) is None:
            missing_service(f"{tool} not installed (Debian package {package})")


@pytest.fixture
def owner(session, app):
    app.config.update(PUBLIC_URL=PUBLIC_URL, PUBLIC_URL_CONFIGURED=True)
    return make_user(session, role="producer", producer_id=make_producer(session).id)


def lot_of(session, owner, name: str, lot: str, gtin: str | None):
    product = make_product(session, name, producer=owner.producer, group=1, gtin=gtin)
    return create_batch(
        session, product, lot=lot, produced_on=date(2026, 11, 1), actor_id=owner.id, today=date(2026, 11, 29)
    )


def ordered_sheet(client, owner, batch, count: int) -> tuple[dict, bytes]:
    headers = bearer(token_for(client, owner))
    response = client.post(f"/api/v1/batches/{batch.id}/stamps", json={"count": count}, headers=headers)
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    sheet = client.get(order["sheet_url"].removeprefix(PUBLIC_URL), headers=headers)
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    return order, sheet.data


def scanned(pdf: bytes, tmp_path) -> list[str]:
    """The QR code zbarimg finds on each stamp of the sheet rendered at 300 dpi, as a phone scans one stamp at a
    time (zbar looking for 30 codes in a whole page misses one now and then; each stamp alone, never)."""
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "sheet.pdf", "page"], cwd=tmp_path, check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages
    pixels_per_mm = 300 / 25.4
    stamps = []
    for page in pages:
        with Image.open(page) as image:
            for place in range(sheets.STAMPS_PER_PAGE):
                left = sheets.MARGIN_X + (place % sheets.COLUMNS) * sheets.CELL_WIDTH
                top = sheets.MARGIN_TOP + (place // sheets.COLUMNS) * sheets.CELL_HEIGHT
                box = (left, top, left + sheets.CELL_WIDTH, top + sheets.CELL_HEIGHT)
                stamp = tmp_path / f"{page.stem}-{place:03d}.png"
                image.crop(tuple(round(v * pixels_per_mm) for v in box)).save(stamp)
                stamps.append(str(stamp))
    # One zbarimg for all the stamps' images (it scans each file on its own, in order), not one per stamp.
    found = subprocess.run(["zbarimg", "--quiet", "--raw", *stamps], capture_output=True, text=True, check=False)
    assert found.returncode in (0, 4), found.stderr  # 4: nothing found at all
    return found.stdout.split()


def test_every_qr_on_a_sheet_of_ten_decodes_to_its_stamps_digital_link(client, session, app, owner, tools, tmp_path):
    batch = lot_of(session, owner, "Nước mắm Cát Hải", "CH-2026/11", GTIN)
    session.commit()
    order, pdf = ordered_sheet(client, owner, batch, 10)

    uris = scanned(pdf, tmp_path)
    assert sorted(uris) == sorted(stamp["uri"] for stamp in order["codes"])
    keys = StampKeys.parse(app.config["STAMP_SIGNING_KEY"])
    for uri in uris:
        link = biip.parse(uri).gs1_digital_link_uri
        assert link is not None, uri
        elements = {element.ai.ai: element for element in link.element_strings}
        assert elements["01"].gtin.as_gtin_14() == GTIN
        assert elements["10"].value == "CH-2026/11"
        serial = elements["21"].value
        assert serial in {stamp["serial"] for stamp in order["codes"]}
        assert uri.startswith(PUBLIC_URL + "/01/")
        assert keys.verify(serial, parse_qs(urlsplit(uri).query)["s"][0])


def test_a_product_without_gtin_prints_the_short_trace_link(client, session, owner, tools, tmp_path):
    batch = lot_of(session, owner, "Rượu làng Vân", "lô 7", None)
    session.commit()
    order, pdf = ordered_sheet(client, owner, batch, 3)
    uris = scanned(pdf, tmp_path)
    serials = {stamp["serial"] for stamp in order["codes"]}
    assert len(uris) == 3
    for uri in uris:
        match = re.fullmatch(re.escape(PUBLIC_URL) + r"/t/([A-Z2-7]{16})\?s=[A-Za-z0-9]+\.[A-Za-z0-9_-]{12}", uri)
        assert match and match.group(1) in serials, uri
        assert biip.parse(uri).gs1_digital_link_uri is None


def test_no_word_leaves_its_stamp_with_a_200_character_name(client, session, owner, tools, tmp_path):
    batch = lot_of(session, owner, LONG_NAME, "CH-2026-11-DAC-BIET", GTIN)
    session.commit()
    _, pdf = ordered_sheet(client, owner, batch, 31)
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    subprocess.run(["pdftotext", "-bbox", "sheet.pdf", "words.html"], cwd=tmp_path, check=True)
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        (tmp_path / "words.html").read_text(encoding="utf-8"),
    )
    mm = 25.4 / 72
    grid_bottom = sheets.MARGIN_TOP + sheets.ROWS * sheets.CELL_HEIGHT
    in_stamps = 0
    for x_min, y_min, x_max, y_max, text in words:
        x_min, y_min, x_max, y_max = (float(v) * mm for v in (x_min, y_min, x_max, y_max))
        if y_min >= grid_bottom:
            continue  # the page's footer
        column = int((x_min - sheets.MARGIN_X) // sheets.CELL_WIDTH)
        row = int((y_min - sheets.MARGIN_TOP) // sheets.CELL_HEIGHT)
        left = sheets.MARGIN_X + column * sheets.CELL_WIDTH + sheets.TEXT_LEFT
        top = sheets.MARGIN_TOP + row * sheets.CELL_HEIGHT
        assert x_min >= left - 0.2 and x_max <= left + sheets.TEXT_WIDTH + 0.2, (text, x_min, x_max, column)
        assert y_max <= top + sheets.CELL_HEIGHT - sheets.PADDING + 0.2, (text, y_max, row)
        in_stamps += 1
    assert in_stamps > 31 * 10
    assert "ủ" in {w[4] for w in words} or any("ủ" in w[4] for w in words), "Vietnamese letters are text, not boxes"
