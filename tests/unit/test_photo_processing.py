"""catalog.photos: only JPEG, PNG and WebP by content, within 10 MiB and 40 megapixels; metadata stripped,
orientation applied, three widths in WebP and JPEG named by the content's hash."""

import io
import struct

import pytest
from PIL import Image, ImageFile

from catalog.photos import MAX_BYTES, WIDTHS, distinct_sizes, file_names, process_photo
from core.errors import InvalidInput
from tests.photo_images import GPS_IFD, HTML, PDF, encoded, marked_photo, phone_photo, png_bomb, truncated

#: On one xdist worker (make test's --dist loadgroup): the 12-megapixel photo (`phone`, 2.5 s to make and process)
#: is then processed once, not once on each worker its tests were sent to.
pytestmark = pytest.mark.xdist_group("photo_processing")


def refusal(data: bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        process_photo(data)
    assert refused.value.field == "file"
    return refused.value


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    image = opened(data)
    assert not image.getexif(), dict(image.getexif())
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp"} & set(image.info), image.info.keys()
    assert b"Test Phone" not in data and b"xmpmeta" not in data


@pytest.fixture(scope="module")
def phone():
    return process_photo(phone_photo())


def test_a_12_megapixel_phone_photo_becomes_three_widths_in_webp_and_jpeg(phone):
    assert [(v.key, v.width) for v in phone.variants] == [(320, 320), (640, 640), (1280, 1280)]
    for variant in phone.variants:
        assert opened(variant.webp).format == "WEBP" and opened(variant.jpeg).format == "JPEG"
        assert opened(variant.webp).size == opened(variant.jpeg).size == (variant.width, variant.height)
    assert (phone.width, phone.height) == (1280, 1707)
    assert sorted(phone.files()) == sorted(file_names(phone.digest))


def test_the_orientation_is_applied_so_a_sideways_stored_portrait_comes_out_portrait(phone):
    image = opened(phone.variants[-1].jpeg).convert("RGB")
    assert image.height > image.width
    # The red block was top-left in the stored pixels; turned 90° clockwise, it is top-right.
    red, green, blue = image.getpixel((image.width - 20, 20))
    assert red > 200 and green < 60 and blue < 60
    assert image.getpixel((20, 20))[0] < 200 or image.getpixel((20, 20))[1] > 60


def test_exif_gps_icc_and_xmp_are_stripped_from_every_file(phone):
    original = Image.open(io.BytesIO(phone_photo(400, 300)))
    assert original.getexif().get_ifd(GPS_IFD) and "icc_profile" in original.info and "xmp" in original.info
    for data in phone.files().values():
        assert_no_metadata(data)


def test_png_and_webp_are_accepted_with_their_metadata_stripped():
    image = marked_photo(900, 600).convert("RGBA")
    exif = Image.Exif()
    exif[0x0110] = "Test Phone 12"
    for data in (
        encoded(image, "PNG", exif=exif, pnginfo=None),
        encoded(image, "WEBP", exif=exif, quality=90),
    ):
        photo = process_photo(data)
        assert (photo.width, photo.height) == (900, 600)
        for content in photo.files().values():
            assert_no_metadata(content)


def test_a_small_original_is_never_upscaled_but_still_has_a_file_for_each_width():
    photo = process_photo(encoded(marked_photo(500, 400), "JPEG"))
    assert [(v.key, v.width, v.height) for v in photo.variants] == [(320, 320, 256), (640, 500, 400), (1280, 500, 400)]
    assert len(photo.files()) == 2 * len(WIDTHS)
    # srcset names each real width once.
    assert [(key, width) for key, width, _ in distinct_sizes(photo.width, photo.height)] == [(320, 320), (640, 500)]


def test_the_same_picture_gives_the_same_digest_and_another_picture_another():
    data = encoded(marked_photo(700, 500), "PNG")
    assert process_photo(data).digest == process_photo(data).digest
    assert process_photo(encoded(marked_photo(700, 500), "PNG")).digest != process_photo(data).digest


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PDF, id="a PDF renamed .jpg"),
        pytest.param(HTML, id="an HTML page renamed .jpg"),
        pytest.param(encoded(Image.new("RGB", (50, 50)), "GIF"), id="a GIF"),
        pytest.param(encoded(Image.new("RGB", (50, 50)), "BMP"), id="a BMP"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 64, id="only a JPEG signature"),
    ],
)
def test_what_is_not_a_jpeg_png_or_webp_by_content_is_refused(data):
    assert refusal(data).code == "not_an_image"


def test_an_empty_file_is_refused():
    assert refusal(b"").code == "file_required"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_image_is_refused(fmt):
    assert refusal(truncated(encoded(marked_photo(800, 600), fmt))).code in {"image_truncated", "not_an_image"}


def test_a_truncated_jpeg_is_refused_as_truncated():
    assert refusal(truncated(encoded(marked_photo(800, 600), "JPEG"))).code == "image_truncated"


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(monkeypatch):
    bomb = png_bomb()
    # Pillow itself refuses to open it (catalog.photos sets its limit), so the header is read by hand.
    assert len(bomb) < 100_000 and struct.unpack(">II", bomb[16:24]) == (20_000, 20_000)

    def no_decoding(self):
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert refusal(bomb).code == "image_too_large"


def test_just_over_40_megapixels_is_refused_and_within_is_accepted():
    assert refusal(encoded(Image.new("1", (8000, 5001)), "PNG")).code == "image_too_large"
    assert process_photo(encoded(Image.new("1", (8000, 5000)), "PNG")).width == 1280


def test_a_file_over_10_mib_is_refused_before_it_is_read():
    assert refusal(b"\xff\xd8" + bytes(MAX_BYTES)).code == "file_too_large"


def test_a_strip_far_longer_than_wide_is_refused():
    assert refusal(encoded(Image.new("L", (4000, 100)), "PNG")).code == "image_proportions"
