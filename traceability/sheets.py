"""The printable sheet of a stamp order: an A4 PDF, 30 stamps a page, to print on label paper and cut along the
dashed guides (issue 17 "Printable sheets").

Each stamp: the QR of its GS1 Digital Link (traceability.stamps.printed_stamps) made by segno at error correction
M exactly (no boost: the level the issue names), the product's name, the star badge of its certificate, the lot
and the serial in text, and a line saying what the code is for. Why it is built this way:

- **The QR is vector, not a picture.** Each QR is drawn as filled rectangles straight from segno's module matrix,
  one per horizontal run of dark modules, in a coordinate system of one unit per module (a single `cm`
  transform), so every rectangle is a few integers. 100 stamps make a file of about 85 KB, text included
  (`make bench` measures it), print sharp at any printer resolution, and need no image library. fpdf2 has no
  public call for raw path operators, so `_qr` writes them with FPDF._out; the integration test decodes every
  QR with zbarimg, which catches any change there.
- **Sizes.** The QR with its quiet zone (4 modules each side, as ISO/IEC 18004 asks) fills a 24 mm square, so the
  symbol itself is 19–21 mm wide for the URIs we make (versions 4–10): at least 15 mm, as the issue asks, and
  modules of 0.35 mm or more, which office laser and inkjet printers render and phones read from a hand's
  length.
- **Text never leaves its stamp.** Every text block has a box; the block's text is wrapped to the box's width
  and shrunk in half-point steps until its lines fit the box's height, and only at the smallest size is the
  last line cut with "…" (a 200-character product name still fits; `fit_text` is tested on it). The boxes'
  worst cases add up to less than the stamp's height.
- **The font ships with the code.** Vietnamese needs a Unicode TrueType font, and a fresh machine may have none:
  traceability/fonts/ holds DejaVu Sans Condensed (Bitstream Vera licence, LICENSE-DejaVu.txt beside it; it
  has every Vietnamese letter and ★). fpdf2 embeds only the glyphs a sheet uses.
- **Cost.** About 11 ms a stamp, most of it segno trying the eight QR masks to pick the most readable one (kept:
  a sheet is made rarely and read by cheap phones): 100 stamps in about a second, 1,000 in about ten. A sheet is
  not stored: the last few made stay in memory, keyed by everything printed on them, so a second download is
  immediate and a sheet never disagrees with the keys, PUBLIC_URL or the certificate.
- **The sheet is printed in Vietnamese** whatever the language of the page that asked for it: it goes on goods
  sold in Vietnam. The star badge shows the stars of the certificate valid on the day the sheet is made, and
  none when no certificate is valid then: a fresh sheet never claims stars the product no longer has.
"""

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import segno
from fpdf import FPDF
from sqlalchemy.orm import Session

from catalog.certification import certificate_standing, current_certificate
from traceability.codes import StampKeys
from traceability.models import StampOrder
from traceability.stamps import PrintedStamp, printed_stamps

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "DejaVuSansCondensed.ttf"
FONT = "DejaVuSansCondensed"

PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0  # A4, mm
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 10.0, 12.0, 12.0
COLUMNS, ROWS = 3, 10
STAMPS_PER_PAGE = COLUMNS * ROWS
CELL_WIDTH = (PAGE_WIDTH - 2 * MARGIN_X) / COLUMNS  # 63.3 mm
CELL_HEIGHT = (PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM) / ROWS  # 27.3 mm
PADDING = 1.5
#: The QR's square with its quiet zone.
QR_BOX = 24.0
QUIET_ZONE_MODULES = 4
#: Where the text of a stamp goes, relative to its cell.
TEXT_LEFT = PADDING + QR_BOX + 1.0
TEXT_WIDTH = CELL_WIDTH - TEXT_LEFT - PADDING
TEXT_HEIGHT = CELL_HEIGHT - 2 * PADDING
#: Line height as a multiple of the font size.
LEADING = 1.2
PT = 25.4 / 72  # mm per point


@dataclass(frozen=True)
class TextBlock:
    """One piece of a stamp's text: its largest and smallest sizes (pt) and the height of its box (mm)."""

    name: str
    largest: float
    smallest: float
    height: float


#: Top to bottom. The heights fit each block's worst case (a 200-character name, a 60-character lot).
BLOCKS = (
    TextBlock("name", 7.5, 5.0, 9.6),
    TextBlock("badge", 7.0, 6.0, 3.0),
    TextBlock("lot", 6.5, 5.0, 5.4),
    TextBlock("serial", 6.5, 5.5, 2.8),
    TextBlock("hint", 5.0, 4.5, 2.2),
)
HINT = "Quét mã QR để xem nguồn gốc sản phẩm"


@dataclass(frozen=True)
class FittedText:
    size: float
    lines: list[str]

    @property
    def line_height(self) -> float:
        return self.size * LEADING * PT


def star_badge(stars: int) -> str:
    """The certificate's stars as printed: "★★★★ 4 sao OCOP"."""
    return f"{'★' * stars} {stars} sao OCOP"


@contextmanager
def open_document() -> Iterator[FPDF]:
    """An empty A4 document in the bundled font; the font file is closed afterwards (fpdf2 reads it lazily)."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
    pdf.c_margin = 0
    pdf.add_font(FONT, fname=str(FONT_PATH))
    try:
        pdf.set_font(FONT, size=7)
        yield pdf
    finally:
        for font in pdf.fonts.values():
            if hasattr(font, "close"):
                font.close()


def fit_text(pdf: FPDF, text: str, width: float, height: float, largest: float, smallest: float) -> FittedText:
    """`text` wrapped to `width` mm at the largest size from `largest` down to `smallest` (half-point steps)
    whose lines fit `height` mm; at the smallest size, the lines that fit, the last one ending in "…"."""
    text = " ".join(text.split())
    size = largest
    while True:
        pdf.set_font_size(size)
        fitted = FittedText(size, _wrap(pdf, text, width))
        room = max(1, math.floor(height / fitted.line_height + 1e-9))
        if len(fitted.lines) <= room:
            return fitted
        if size - 0.5 < smallest - 1e-9:
            return FittedText(size, [*fitted.lines[: room - 1], _cut(pdf, fitted.lines[room - 1], width)])
        size -= 0.5


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    if not text:
        return []
    if pdf.get_string_width(text) <= width:
        return [text]
    # fpdf2 wraps at spaces and breaks a word longer than the width wherever it must.
    return [line.rstrip() for line in pdf.multi_cell(width, 3, text, dry_run=True, output="LINES")]


def _cut(pdf: FPDF, line: str, width: float) -> str:
    line = line.rstrip()
    while line and pdf.get_string_width(line + "…") > width:
        line = line[:-1].rstrip()
    return line + "…"


def stamp_texts(product_name: str, stars: int | None, lot: str, serial: str) -> dict[str, str]:
    return {
        "name": product_name,
        "badge": star_badge(stars) if stars else "",
        "lot": f"Lô: {lot}",
        "serial": f"Số sê-ri: {serial}",
        "hint": HINT,
    }


def layout_stamp(pdf: FPDF, texts: dict[str, str], known: dict | None = None) -> list[tuple[float, FittedText]]:
    """Each block's text fitted to its box, with its top (mm below the top of the text area). `known` keeps the
    fitted texts of a sheet, whose stamps differ only in their serials."""
    placed, top = [], 0.0
    known = {} if known is None else known
    for block in BLOCKS:
        if not texts.get(block.name):
            continue
        key = (block.name, texts[block.name])
        if key not in known:
            known[key] = fit_text(pdf, texts[block.name], TEXT_WIDTH, block.height, block.largest, block.smallest)
        fitted = known[key]
        placed.append((top, fitted))
        top += len(fitted.lines) * fitted.line_height + 0.3
    return placed


def render_sheet(
    *,
    product_name: str,
    stars: int | None,
    lot: str,
    stamps: Sequence[PrintedStamp],
    footer: str = "",
    created_at: datetime | None = None,
) -> bytes:
    """The A4 PDF of `stamps`, in order, left to right and top to bottom."""
    with open_document() as pdf:
        return _render(pdf, product_name, stars, lot, stamps, footer, created_at)


def _render(pdf: FPDF, product_name, stars, lot, stamps, footer, created_at) -> bytes:
    pdf.set_title(f"Tem truy xuất – {product_name} – lô {lot}")
    pdf.set_creator("OCOP Mart")
    if created_at is not None:
        pdf.set_creation_date(created_at)
    pages = max(1, math.ceil(len(stamps) / STAMPS_PER_PAGE))
    known: dict = {}
    for index, stamp in enumerate(stamps):
        place = index % STAMPS_PER_PAGE
        if place == 0:
            pdf.add_page()
            _page_frame(pdf, footer, index // STAMPS_PER_PAGE + 1, pages)
        x = MARGIN_X + (place % COLUMNS) * CELL_WIDTH
        y = MARGIN_TOP + (place // COLUMNS) * CELL_HEIGHT
        _qr(pdf, stamp.uri, x + PADDING, y + (CELL_HEIGHT - QR_BOX) / 2)
        _text(pdf, stamp_texts(product_name, stars, lot, stamp.serial), x + TEXT_LEFT, y + PADDING, known)
    if not stamps:
        pdf.add_page()
    return bytes(pdf.output())


def _page_frame(pdf: FPDF, footer: str, page: int, pages: int) -> None:
    """The cutting guides (dashed, light grey) and the page's footer."""
    pdf.set_draw_color(170)
    pdf.set_line_width(0.1)
    pdf.set_dash_pattern(dash=1, gap=1)
    for column in range(COLUMNS + 1):
        x = MARGIN_X + column * CELL_WIDTH
        pdf.line(x, MARGIN_TOP, x, PAGE_HEIGHT - MARGIN_BOTTOM)
    for row in range(ROWS + 1):
        y = MARGIN_TOP + row * CELL_HEIGHT
        pdf.line(MARGIN_X, y, PAGE_WIDTH - MARGIN_X, y)
    pdf.set_dash_pattern()
    text = f"{footer} · trang {page}/{pages}" if footer else f"Trang {page}/{pages}"
    fitted = fit_text(pdf, text, PAGE_WIDTH - 2 * MARGIN_X, 4, 7, 5)
    pdf.set_text_color(90)
    pdf.set_font_size(fitted.size)
    pdf.set_xy(MARGIN_X, PAGE_HEIGHT - MARGIN_BOTTOM + 3)
    pdf.cell(PAGE_WIDTH - 2 * MARGIN_X, fitted.line_height, fitted.lines[0])
    pdf.set_text_color(0)


def _text(pdf: FPDF, texts: dict[str, str], left: float, top: float, known: dict) -> None:
    for offset, fitted in layout_stamp(pdf, texts, known):
        pdf.set_font_size(fitted.size)
        for number, line in enumerate(fitted.lines):
            pdf.set_xy(left, top + offset + number * fitted.line_height)
            pdf.cell(TEXT_WIDTH, fitted.line_height, line)


def qr_matrix(uri: str) -> tuple[tuple[int, ...], ...]:
    """The QR's modules (1 dark), without the quiet zone: segno at error correction M, never boosted."""
    return segno.make_qr(uri, error="m", boost_error=False).matrix


def dark_runs(matrix: Sequence[Sequence[int]]) -> Iterator[tuple[int, int, int]]:
    """(column, row, length) of each horizontal run of dark modules."""
    for row, modules in enumerate(matrix):
        column, width = 0, len(modules)
        while column < width:
            if modules[column]:
                start = column
                while column < width and modules[column]:
                    column += 1
                yield start, row, column - start
            else:
                column += 1


def _qr(pdf: FPDF, uri: str, left: float, top: float) -> None:
    matrix = qr_matrix(uri)
    modules = len(matrix)
    module = QR_BOX / (modules + 2 * QUIET_ZONE_MODULES)
    k = pdf.k  # points per mm
    origin_x = (left + QUIET_ZONE_MODULES * module) * k
    origin_y = (PAGE_HEIGHT - top - QUIET_ZONE_MODULES * module) * k
    # One unit per module, y growing downwards from the symbol's top-left corner: "x y w 1 re" per dark run.
    operators = [f"q 0 g {module * k:.5f} 0 0 {-module * k:.5f} {origin_x:.3f} {origin_y:.3f} cm"]
    operators.extend(f"{x} {y} {length} 1 re" for x, y, length in dark_runs(matrix))
    operators.append("f Q")
    pdf._out("\n".join(operators))


def sheet_stars(order: StampOrder, today: date) -> int | None:
    """The stars the badge shows: those of the product's certificate valid on `today`, else none."""
    certificate = current_certificate(order.batch.product.certificates)
    if certificate is None or certificate_standing(certificate, today) != "valid":
        return None
    return certificate.stars


#: The last sheets made in this process, by a digest of everything printed on them: printing a sheet again (a
#: jammed printer, a second box of labels) does not make its QR codes again.
SHEETS_KEPT = 8
_made: OrderedDict[bytes, bytes] = OrderedDict()
_made_lock = threading.Lock()


def order_sheet(session: Session, order: StampOrder, *, keys: StampKeys, public_url: str, today: date) -> bytes:
    """The PDF of a stamp order; the same codes every time it is made."""
    batch = order.batch
    content = {
        "product_name": batch.product.name,
        "stars": sheet_stars(order, today),
        "lot": batch.lot_code,
        "stamps": printed_stamps(session, order, keys=keys, public_url=public_url),
        "footer": f"OCOP Mart · đơn tem #{order.id} · {order.count} tem · lô {batch.lot_code}",
        "created_at": order.ordered_at,
    }
    digest = hashlib.sha256(repr(sorted(content.items())).encode("utf-8")).digest()
    with _made_lock:
        if digest in _made:
            _made.move_to_end(digest)
            return _made[digest]
    pdf = render_sheet(**content)
    with _made_lock:
        _made[digest] = pdf
        while len(_made) > SHEETS_KEPT:
            _made.popitem(last=False)
    return pdf


def sheet_filename(order: StampOrder) -> str:
    return f"tem-truy-xuat-don-{order.id}.pdf"
