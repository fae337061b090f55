"""Product photos as uploaded bytes become files the shop can serve (issue 16, "Photos").

An upload is accepted only when its content (never its name) decodes as JPEG, PNG or WebP, within 10 MiB and
40 megapixels; the pixel count is read from the header before any decoding, so a decompression bomb costs
nothing. It is decoded whole (a truncated file is refused), turned upright by its EXIF orientation, converted
to sRGB when it carries a colour profile, and re-encoded from pixels alone: no EXIF, GPS, XMP or ICC survives.
Each photo has three widths (320, 640, 1280; never wider than the original), each as WebP and as a JPEG
fallback, named `<digest>-<width>.<webp|jpg>` where the digest is the SHA-256 of the largest WebP: the same
picture uploaded twice gives the same files.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

from core.errors import N_, InvalidInput
from core.files import content_name

#: Bytes of one upload at most (the route's body limit adds room for the multipart framing).
MAX_BYTES = 10 * 1024 * 1024
#: Pixels of one upload at most (width × height, read from the header before decoding).
MAX_PIXELS = 40_000_000
#: The longer side may be at most this many times the shorter (a 1 × 40,000,000 strip is no photo, and WebP
#: cannot hold a side over 16,383 pixels).
MAX_ASPECT = 10
#: The keys of the variants: the width each is resized to, or the original's width when it is narrower.
WIDTHS = (320, 640, 1280)
FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = ("webp", "jpg")
WEBP_QUALITY = 80
JPEG_QUALITY = 82

# Pillow's own guard, for any code in this process that opens an image: warn past our limit, refuse past twice.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class Variant:
    key: int
    width: int
    height: int
    webp: bytes
    jpeg: bytes


@dataclass(frozen=True)
class ProcessedPhoto:
    digest: str
    #: The largest variant's size (the one stored on ProductPhoto).
    width: int
    height: int
    variants: tuple[Variant, ...]

    def files(self) -> dict[str, bytes]:
        """Every file of the photo by its stored name."""
        named = {}
        for variant in self.variants:
            named[file_name(self.digest, variant.key, "webp")] = variant.webp
            named[file_name(self.digest, variant.key, "jpg")] = variant.jpeg
        return named


def file_name(digest: str, key: int, extension: str) -> str:
    return f"{digest}-{key}.{extension}"


def file_names(digest: str) -> list[str]:
    """The names of every file a photo with this digest has."""
    return [file_name(digest, key, extension) for key in WIDTHS for extension in EXTENSIONS]


def variant_sizes(width: int, height: int) -> list[tuple[int, int, int]]:
    """(key, width, height) of each variant of an image of width × height: resized to the key's width, or kept
    at its own width when narrower. The same for the original and for its largest variant."""
    return [(key, min(key, width), max(1, round(height * min(key, width) / width))) for key in WIDTHS]


def distinct_sizes(width: int, height: int) -> list[tuple[int, int, int]]:
    """The variants whose widths differ (a narrow original has several keys of one width): for `srcset`."""
    seen, sizes = set(), []
    for key, w, h in variant_sizes(width, height):
        if w not in seen:
            seen.add(w)
            sizes.append((key, w, h))
    return sizes


def _refuse(template: str, code: str, **params) -> InvalidInput:
    return InvalidInput(template, code=code, field="file", **params)


def process_photo(data: bytes) -> ProcessedPhoto:
    """The photo's variants, or InvalidInput (field "file") saying why the upload is refused."""
    if len(data) > MAX_BYTES:
        raise _refuse(N_("Tệp ảnh quá lớn (tối đa %(mib)s MiB)."), "file_too_large", mib=MAX_BYTES // (1024 * 1024))
    if not data:
        raise _refuse(N_("Chưa chọn tệp ảnh, hoặc tệp trống."), "file_required")
    image = _decoded(data)
    image = _upright(image)
    image = _in_srgb(image)
    variants = _variants(image)
    largest = variants[-1]
    return ProcessedPhoto(
        digest=content_name(largest.webp), width=largest.width, height=largest.height, variants=tuple(variants)
    )


def _open(data: bytes) -> Image.Image:
    """The image's header only (no pixels decoded), refused unless it is a JPEG, PNG or WebP within the limits."""
    with warnings.catch_warnings():
        # Past MAX_IMAGE_PIXELS Pillow only warns (it refuses past twice that): both are refusals here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except Exception:  # noqa: BLE001 - whatever a plugin raises on bytes that are not its format
            raise _not_an_image() from None
    width, height = image.size
    if image.format not in FORMATS or width < 1 or height < 1:
        raise _not_an_image()
    if width * height > MAX_PIXELS:
        raise _too_many_pixels()
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise _refuse(
            N_("Ảnh quá dài hoặc quá hẹp (cạnh dài tối đa gấp %(ratio)s lần cạnh ngắn)."),
            "image_proportions",
            ratio=MAX_ASPECT,
        )
    return image


def _not_an_image() -> InvalidInput:
    return _refuse(
        N_("Tệp không phải ảnh JPEG, PNG hoặc WebP (nội dung tệp được kiểm tra, không phải tên tệp)."), "not_an_image"
    )


def _too_many_pixels() -> InvalidInput:
    return _refuse(
        N_("Ảnh có quá nhiều điểm ảnh (tối đa %(megapixels)s megapixel)."),
        "image_too_large",
        megapixels=MAX_PIXELS // 1_000_000,
    )


def _decoded(data: bytes) -> Image.Image:
    """The whole image decoded; a file cut short or damaged anywhere is refused."""
    image = _open(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.verify()  # the container's own checks (PNG chunk checksums); the image cannot be used after
            image = _open(data)
            if image.format == "JPEG":
                # JPEG decodes at 1/2, 1/4 or 1/8 scale for free: the least that still covers the largest
                # variant whichever way the photo turns.
                image.draft(None, (max(WIDTHS), max(WIDTHS)))
            image.load()
    except InvalidInput:
        raise
    except Exception:  # noqa: BLE001 - OSError "image file is truncated", zlib and plugin errors alike
        raise _refuse(N_("Tệp ảnh bị cắt cụt hoặc hỏng, không đọc được hết."), "image_truncated") from None
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Turned as the EXIF orientation says (a phone's portrait photo is stored sideways)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a malformed EXIF block: the pixels are shown as stored
        return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _in_srgb(image: Image.Image) -> Image.Image:
    """8-bit RGB (RGBA when it has transparency) in sRGB: a photo with another colour profile (Display P3,
    Adobe RGB, a CMYK press profile) is converted rather than shown with its profile stripped; 16-bit,
    greyscale and palette images become RGB. Nothing of `info` (EXIF, XMP, ICC) is kept."""
    target = "RGBA" if _has_alpha(image) else "RGB"
    icc = image.info.get("icc_profile")
    converted = None
    if icc and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            converted = ImageCms.profileToProfile(
                image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB, outputMode=target
            )
        except Exception:  # noqa: BLE001 - a broken or mismatched profile: converted as if it had none
            converted = None
    if converted is None:
        if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
            image = image.point(lambda value: value / 256).convert("L")
        converted = image.convert(target) if image.mode != target else image.copy()
    converted.info = {}
    return converted


def _variants(image: Image.Image) -> list[Variant]:
    """Smallest first; each resized from the next larger, which is as sharp and much quicker than from the
    original."""
    variants = []
    source = image
    for key, width, height in reversed(variant_sizes(*image.size)):
        if source.size != (width, height):
            source = source.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        source.info = {}
        variants.append(Variant(key, width, height, _webp(source), _jpeg(source)))
    return variants[::-1]


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()


def _jpeg(image: Image.Image) -> bytes:
    if image.mode == "RGBA":  # JPEG has no transparency: on white, as the page shows it
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()
