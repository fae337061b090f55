"""Images built in tests for the photo checks (catalog.photos): real files, made with Pillow or by hand."""

import io
import struct
import zlib

from PIL import Image, ImageDraw

#: EXIF tags: Orientation, and the GPS block's pointer.
ORIENTATION, GPS_IFD = 0x0112, 0x8825


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def marked_photo(width: int, height: int) -> Image.Image:
    """Noise, like a real photo (it compresses as one), with a red block in the top-left corner to tell which
    way is up."""
    image = Image.merge("RGB", [Image.effect_noise((width, height), 60 + 10 * band) for band in range(3)])
    ImageDraw.Draw(image).rectangle((0, 0, width // 4, height // 4), fill=(255, 0, 0))
    return image


def phone_photo(width: int = 4000, height: int = 3000, orientation: int = 6) -> bytes:
    """A JPEG as a phone stores it: landscape pixels with an EXIF orientation (6: turn 90° clockwise to view,
    so it is a portrait), GPS coordinates, a camera model, an ICC profile and XMP."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x0110] = "Test Phone 12"
    exif[GPS_IFD] = {1: "N", 2: (20.0, 51.0, 30.0), 3: "E", 4: (106.0, 41.0, 15.0)}
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    return encoded(marked_photo(width, height), "JPEG", quality=90, exif=exif, icc_profile=icc, xmp=xmp)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of side × side pixels, all black: about 50 KB on disk, 400 megapixels decoded."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + (side + 7) // 8)  # the filter byte, then the row's bits
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> "
    b"endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
HTML = b"<!doctype html><html><head><title>x</title></head><body><img src=x onerror=alert(1)></body></html>"


def truncated(data: bytes) -> bytes:
    return data[: len(data) * 2 // 3]
