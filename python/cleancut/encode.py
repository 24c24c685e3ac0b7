"""Encode stage: uint8 arrays -> PNG bytes, lossless.

The scanlines are Up-filtered by the native core and deflated by ISA-L (``isal``) at the fast
levels 0..2, and by zlib-ng (``zlib-ng``) at 3..9 for smaller files. Bands of rows are composed,
filtered and deflated in parallel, each band a raw deflate run ending on a byte boundary (sync flush),
so the runs join into one zlib stream, as pigz does. Only the framing is Python.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import PurePath

import numpy as np
from PIL import Image

from . import _native
from .errors import InvalidInputError, checked_number
from .pools import BANDS

try:
    from isal import isal_zlib as fast_deflate
except ImportError:  # no isal wheel for this platform: zlib is slower but the same format
    fast_deflate = zlib
try:
    from zlib_ng import zlib_ng as small_deflate
except ImportError:  # likewise
    small_deflate = zlib

DEFAULT_COMPRESS_LEVEL = 1
# ISA-L's levels 0..2. Its level 3 made larger files than its 1 on 2048² photo cut-outs (1.21-1.35x
# against 1.10-1.23x Pillow's size) in 1.2-4x the time; zlib-ng's 3 made 0.99-1.11x. zlib at 4..9 was
# 1.3-3.3x slower than zlib-ng, its files 2% smaller to 6% larger.
FAST_LEVELS = 2
_COLOUR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
_ADLER_BASE = 65521
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, no preset dictionary


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two byte runs joined, from each run's checksum (zlib's adler32_combine)."""
    rem = second_length % _ADLER_BASE
    low = ((first & 0xFFFF) + (second & 0xFFFF) + _ADLER_BASE - 1) % _ADLER_BASE
    high = (rem * (first & 0xFFFF) + (first >> 16) + (second >> 16) + _ADLER_BASE - rem) % _ADLER_BASE
    return high << 16 | low


def _channels(pixels: np.ndarray) -> int:
    return 1 if pixels.ndim == 2 else pixels.shape[2]


def _colour_profile(channels: int, icc_profile: bytes | None) -> bytes | None:
    """The RGB colour profile (decode.Decoded) for an image with colour; a mask has none."""
    return icc_profile if channels >= 3 else None


def to_pil(pixels: np.ndarray, icc_profile: bytes | None = None) -> Image.Image:
    """HxW -> 'L', HxWx4 -> 'RGBA' (a copy owned by Pillow), tagged with the RGB colour profile
    (``image.save`` writes it)."""
    image = Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGBA")
    if profile := _colour_profile(_channels(pixels), icc_profile):
        image.info["icc_profile"] = profile
    return image


# Output files by suffix: PNG is cleancut's own encoder; the rest are Pillow's, lossless but JPEG.
FILE_FORMATS = {".png": "PNG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG"}
_PILLOW_OPTIONS = {"WEBP": {"lossless": True, "exact": True}, "TIFF": {"compression": "tiff_adobe_deflate"}, "JPEG": {"quality": 95}}


def format_for(path: str) -> str:
    """The FILE_FORMATS value a file name's suffix names (PNG without a suffix); InvalidInputError
    for other suffixes, rather than PNG bytes under a name that says otherwise."""
    suffix = PurePath(path).suffix.lower()
    if not suffix:
        return "PNG"
    if suffix not in FILE_FORMATS:
        raise InvalidInputError(f"cannot write {suffix} files: name the output .png, .webp, .tif or .jpg")
    return FILE_FORMATS[suffix]


def to_file_format(pixels: np.ndarray, file_format: str, icc_profile: bytes | None = None) -> bytes:
    """uint8 HxW or HxWx4 -> an image file in ``file_format`` (a FILE_FORMATS value), tagged with
    the RGB colour profile. JPEG has no alpha channel, so an RGBA image must be opaque (a cut-out
    on an opaque ``bgcolor``)."""
    if file_format == "PNG":
        return to_png(pixels, icc_profile=icc_profile)
    image = to_pil(pixels)
    if file_format == "JPEG" and image.mode == "RGBA":
        if pixels[..., 3].min() < 255:
            raise InvalidInputError("JPEG has no transparency: write PNG, WebP or TIFF, or fill the background with an opaque bgcolor")
        image = image.convert("RGB")
    options = dict(_PILLOW_OPTIONS[file_format])
    if profile := _colour_profile(_channels(pixels), icc_profile):
        options["icc_profile"] = profile  # Pillow's WebP and JPEG writers take it only as an option
    buffer = io.BytesIO()
    image.save(buffer, file_format, **options)
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))


def checked_level(compress_level: int) -> int:
    """``compress_level`` if it is an integer in 0..9; otherwise InvalidInputError."""
    return checked_number("compress_level", compress_level, 0, 9)


def to_png(pixels: np.ndarray, compress_level: int = DEFAULT_COMPRESS_LEVEL, parallel: bool = True,
           icc_profile: bytes | None = None) -> bytes:
    """uint8 HxW or HxWxC (C = 1..4) -> PNG bytes. ``compress_level`` 0..9: up to 2 fast, above smaller."""
    height, width = pixels.shape[:2]
    return png_from_rows(height, width, _channels(pixels), lambda top, bottom: pixels[top:bottom], compress_level, parallel=parallel,
                         icc_profile=icc_profile)


def png_from_rows(
    height: int,
    width: int,
    channels: int,
    rows: Callable[[int, int], np.ndarray],
    compress_level: int = DEFAULT_COMPRESS_LEVEL,
    band: int = 256,
    parallel: bool = True,
    icc_profile: bytes | None = None,
) -> bytes:
    """PNG bytes from ``rows(top, bottom)``, asked for one band at a time: filtered and deflated
    band by band, so no full-size copy of the image (or its scanlines) is ever held. An RGB(A)
    image is tagged with ``icc_profile`` (an iCCP chunk)."""
    library = fast_deflate if checked_level(compress_level) <= FAST_LEVELS else small_deflate
    tops = range(0, height, band)

    def deflate_band(top: int) -> tuple[bytes, int, int]:
        bottom = min(height, top + band)
        above = max(top - 1, 0)  # the Up filter needs the row above the band
        scanlines = _native.active.png_filter_up(rows(above, bottom))[top - above :]
        deflater = library.compressobj(compress_level, zlib.DEFLATED, -zlib.MAX_WBITS)
        end = zlib.Z_FINISH if bottom == height else zlib.Z_SYNC_FLUSH
        return deflater.compress(scanlines) + deflater.flush(end), library.adler32(scanlines), scanlines.nbytes

    # Rows are asked for inside the band jobs: only one band per worker is ever held uncompressed.
    # parallel=False: the caller keeps the other cores busy itself (remove_batch's lanes).
    bands = list(BANDS.get().map(deflate_band, tops)) if parallel and len(tops) > 1 else [deflate_band(t) for t in tops]
    checksum = 1
    for _, band_checksum, length in bands:
        checksum = adler32_combine(checksum, band_checksum, length)
    compressed = [_ZLIB_HEADER, *(deflated for deflated, _, _ in bands), struct.pack(">I", checksum)]
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    # The IDAT chunk is framed around the compressed bands in place, without joining them first.
    size = sum(len(c) for c in compressed)
    crc = fast_deflate.crc32(b"IDAT")
    for c in compressed:
        crc = fast_deflate.crc32(c, crc)  # ISA-L's: 0.05 instead of 0.44 ms for a 2048² cut-out
    idat = [struct.pack(">I", size), b"IDAT", *compressed, struct.pack(">I", crc)]
    profile = _colour_profile(channels, icc_profile)
    colour = [_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(profile))] if profile else []
    return b"".join([b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header), *colour, *idat, _chunk(b"IEND", b"")])
