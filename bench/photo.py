"""Benchmark: processing one 12-megapixel photo (issue 16, "Photos").

    python bench/photo.py [--width 4000] [--height 3000] [--runs 5] [--orientation 6]

The photo is generated as a phone would store it: a 4000 × 3000 JPEG (quality 92) of smooth colour fields with
fine noise over them (so it compresses like a real photo, not like a flat test card), an EXIF orientation (6:
stored sideways, shown as a portrait), GPS coordinates and an ICC profile. Timed: catalog.photos.process_photo
alone (check the content, decode it whole, turn it upright, convert to sRGB, strip the metadata, resize to
320/640/1280 and encode each as WebP and JPEG), once untimed, then --runs times; prints the median and the
slowest, and the bytes of each variant. Nothing is written to disk.
"""

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageCms, ImageFilter  # noqa: E402

from catalog.photos import process_photo  # noqa: E402

ORIENTATION, GPS_IFD = 0x0112, 0x8825


def realistic_photo(width: int, height: int, orientation: int) -> bytes:
    """Large soft colour areas (a blurred, upscaled coarse noise) with fine grain on top, saved as a phone does."""
    coarse = Image.merge("RGB", [Image.effect_noise((width // 50, height // 50), 90) for _ in range(3)])
    base = coarse.resize((width, height), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(4))
    grain = Image.merge("RGB", [Image.effect_noise((width, height), 18) for _ in range(3)])
    photo = Image.blend(base, grain, 0.25)
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (20.0, 51.0, 30.0), 3: "E", 4: (106.0, 41.0, 15.0)}
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=92, exif=exif, icc_profile=icc)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--orientation", type=int, default=6)
    args = parser.parse_args()

    data = realistic_photo(args.width, args.height, args.orientation)
    megapixels = args.width * args.height / 1e6
    print(f"photo: {args.width} × {args.height} ({megapixels:.1f} MP) JPEG, {len(data):,} bytes")
    processed = process_photo(data)  # untimed: imports, caches
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        processed = process_photo(data)
        times.append(time.perf_counter() - started)
    print(
        f"process_photo: median {statistics.median(times) * 1000:.0f} ms, slowest {max(times) * 1000:.0f} ms "
        f"over {args.runs} runs"
    )
    print(f"digest {processed.digest}")
    print(f"{'key':>5} {'size':>11} {'WebP bytes':>11} {'JPEG bytes':>11}")
    for variant in processed.variants:
        size = f"{variant.width}×{variant.height}"
        print(f"{variant.key:>5} {size:>11} {len(variant.webp):>11,} {len(variant.jpeg):>11,}")
    total = sum(len(content) for content in processed.files().values())
    print(f"all six files: {total:,} bytes ({total / len(data):.1%} of the upload)")


if __name__ == "__main__":
    main()
