"""Decode stage: bytes / PIL image / NumPy array -> uint8 HxWx3 (RGB) or HxWx4 (RGBA) pixels.

The pixel count is checked from the header before any decoding. EXIF orientation is applied;
palette, grey, CMYK and 16-bit modes become 8-bit RGB(A); GIFs and other animations give frame 0.
An RGB colour profile (ICC) the image carries comes with its pixels (``decode_image``), which keep
its colour space, so the cut-out can be tagged with it: a Display P3 photo's cut-out left untagged
is read as sRGB, its colours duller than the photo's.
Upright RGB JPEGs (most photos) are decoded by libjpeg-turbo straight into a NumPy array
(``simplejpeg``): the same pixels as Pillow's decoder, without Pillow's copy out of its own buffer.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

try:
    import simplejpeg
except ImportError:  # no wheel for this platform: Pillow decodes JPEGs too, a little slower
    simplejpeg = None

from .errors import ImageDecodeError, ImageTooLargeError, InvalidInputError, checked_number

DEFAULT_MAX_PIXELS = 100_000_000

_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


@dataclass(frozen=True)
class Decoded:
    """An image's uint8 RGB(A) pixels and the RGB colour profile (ICC bytes) they are in; None:
    none given, so sRGB."""

    pixels: np.ndarray
    icc_profile: bytes | None = None


_RGB_MODES = {"RGB", "RGBA", "RGBa", "RGBX", "P", "PA"}


def rgb_profile(image: Image.Image) -> bytes | None:
    """The image's ICC profile where both are RGB, else None: a grey, CMYK or Lab profile no longer
    describes the pixels once they are converted to RGB (nor an RGB one a grey image's)."""
    profile = image.info.get("icc_profile")
    if image.mode in _RGB_MODES and isinstance(profile, bytes) and len(profile) >= 128 and profile[36:40] == b"acsp" \
            and profile[16:20] == b"RGB ":
        return profile
    return None


def check_size(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"the image is empty ({width}x{height})")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"the image is {width}x{height} = {width * height:,} pixels, over the limit of {max_pixels:,} "
            "(raise max_pixels to allow it)"
        )


def _fit(width: int, height: int, max_side: int | None) -> tuple[int, int] | None:
    """The size with the long side at most ``max_side``, or None when already small enough."""
    if max_side is None or max(width, height) <= max_side:
        return None
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """The image, its header read and its size checked; nothing decoded yet."""
    if not data:
        raise ImageDecodeError("no image data (0 bytes)")
    try:
        with warnings.catch_warnings():
            # Our own limit is checked below; Pillow's bomb warning would only duplicate it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError(f"the image is too large to decode: {e}") from e
    except UnidentifiedImageError as e:  # its message only names Pillow's file object
        raise ImageDecodeError(f"cannot identify the image format ({len(data)} bytes): not an image Pillow can read") from e
    except Exception as e:  # Pillow signals unreadable data with many exception types
        raise ImageDecodeError(f"cannot identify the image format ({len(data)} bytes): {e}") from e
    check_size(image.width, image.height, max_pixels)
    return image


def _load(image: Image.Image, target: tuple[int, int] | None = None) -> Image.Image:
    """The image with its pixels loaded (a caller's PIL image too: it may be lazily opened from a
    truncated or closed file); ``target``: a JPEG of ours may decode straight to about that size."""
    if target is not None and image.format == "JPEG":
        image.draft("RGB", target)  # the JPEG decoder downscales by 1/2..1/8 almost for free
    try:
        image.load()
    except Exception as e:
        raise ImageDecodeError(f"cannot decode the {image.format or 'PIL'} image (truncated, corrupt or closed?): {e}") from e
    return image


def _upright(image: Image.Image) -> bool:
    try:
        return image.getexif().get(0x0112, 1) == 1
    except Exception:  # malformed EXIF: the pixels are kept as stored
        return True


def _decode_jpeg(data: bytes) -> np.ndarray | None:
    """The pixels, or None where libjpeg-turbo reports damage: Pillow then decides, as it always
    has, accepting JPEGs with recoverable errors (stray bytes, bad restart markers) and refusing
    truncated ones."""
    try:
        return simplejpeg.decode_jpeg(data, "RGB")
    except ValueError:
        return None


def _orient(image: Image.Image, target: tuple[int, int] | None = None) -> tuple[Image.Image, tuple[int, int] | None]:
    """Apply the EXIF orientation. Upright images are returned as they are: exif_transpose would
    copy them, and for a 24 MP photo that copy was a third of the whole call's peak memory."""
    if _upright(image):
        return image, target
    try:
        oriented = ImageOps.exif_transpose(image)
    except Exception:  # malformed EXIF: keep the pixels as stored rather than fail the cut
        return image, target
    if target is not None and oriented.size != image.size:
        target = target[::-1]
    return oriented, target


def _to_8bit_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode == "La":  # Pillow converts premultiplied grey only to straight grey + alpha
        image = image.convert("LA")
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # Pillow's convert("L") clips 16-bit values instead of scaling them.
        values = np.asarray(image, dtype=np.float64)
        # "I" is how 16-bit PNGs may arrive; with no value above 255 it holds 8-bit data.
        sixteen_bit = image.mode.startswith("I;16") or (image.mode == "I" and values.max(initial=0) > 255)
        peak = 65535.0 if sixteen_bit else 255.0
        grey = np.clip(values * (255.0 / peak), 0, 255).round().astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    return image.convert("RGB")


def _from_array(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "u" and array.dtype.itemsize == 2:  # either byte order (">u2" from a FITS or TIFF reader)
        array = (array >> 8).astype(np.uint8)
    if array.dtype != np.uint8:
        raise InvalidInputError(f"arrays must be uint8 (or uint16), got {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise InvalidInputError(f"arrays must be HxW, HxWx1, HxWx3 or HxWx4, got shape {array.shape}")
    if array.strides[2] != 1 or array.strides[1] != array.shape[2] or array.strides[0] < array.shape[1] * array.shape[2]:
        array = np.ascontiguousarray(array)  # the kernels take any row stride, but packed pixels
    return array


def decode(
    data: bytes | bytearray | memoryview | Image.Image | np.ndarray,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
) -> np.ndarray:
    """Any supported input -> uint8 RGB or RGBA pixels, downscaled to ``max_side`` if given."""
    return decode_image(data, max_pixels, max_side).pixels


def decode_image(
    data: bytes | bytearray | memoryview | Image.Image | np.ndarray,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
) -> Decoded:
    """``decode``, with the image's RGB colour profile (arrays have none)."""
    checked_number("max_pixels", max_pixels, 1)
    if max_side is not None:
        checked_number("max_side", max_side, 1)
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        image = _open(data, max_pixels)
        profile = rgb_profile(image)
        target = _fit(image.width, image.height, max_side)
        if simplejpeg is not None and target is None and image.format == "JPEG" and image.mode == "RGB" and _upright(image):
            pixels = _decode_jpeg(data)
            if pixels is not None:
                return Decoded(pixels, profile)
        image, target = _orient(_load(image, target), target)
    elif isinstance(data, Image.Image):
        check_size(data.width, data.height, max_pixels)
        profile = rgb_profile(data)
        image, target = _orient(_load(data), _fit(data.width, data.height, max_side))
    elif isinstance(data, np.ndarray):
        if data.ndim not in (2, 3):
            raise InvalidInputError(f"arrays must be HxW or HxWxC, got {data.ndim}-D shape {data.shape}")
        check_size(data.shape[1], data.shape[0], max_pixels)
        pixels, profile = _from_array(data), None
        target = _fit(pixels.shape[1], pixels.shape[0], max_side)
        if target is None:
            return Decoded(pixels)
        image = Image.fromarray(pixels)
    else:
        raise InvalidInputError(f"cannot remove the background of a {type(data).__name__}: pass bytes, a PIL image or a NumPy array")
    image = _to_8bit_rgb(image)
    if target is not None and target != image.size:
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return Decoded(_pixels(image), profile)


def _pixels(image: Image.Image, band: int = 256) -> np.ndarray:
    """The image's pixels as a NumPy array, copied a band of rows at a time: np.asarray(image)
    goes through tobytes() and peaks at twice the array's size on top of the image."""
    pixels = np.empty((image.height, image.width, len(image.getbands())), np.uint8)
    for top in range(0, image.height, band):
        bottom = min(image.height, top + band)
        pixels[top:bottom] = np.asarray(image.crop((0, top, image.width, bottom)))
    return pixels
