"""The PNG encoder: lossless (Pillow decodes exactly what went in) at every level and shape."""

import io
import os
import signal
import zlib

import numpy as np
import pytest
from PIL import Image

from cleancut import InvalidInputError, encode
from conftest import EDGE_SIZES


@pytest.mark.parametrize("level", [0, 1, 3, 6, 9])
@pytest.mark.parametrize("channels", [None, 3, 4])
@pytest.mark.parametrize("size", [(1, 1), (3, 65), (33, 17), (256, 255)])
def test_round_trip_through_pillow(level, channels, size):
    shape = size if channels is None else (*size, channels)
    pixels = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    with Image.open(io.BytesIO(encode.to_png(pixels, level))) as image:
        image.load()
        assert image.format == "PNG"
        assert np.array_equal(np.asarray(image), pixels)


def test_the_smaller_levels_make_smaller_photo_cut_outs():
    """Levels 3 and up trade time for size. (ISA-L's own level 3, used here before, made larger
    files than level 1.)"""
    from skimage import data

    photo = data.chelsea()
    height, width = photo.shape[:2]
    y, x = np.mgrid[:height, :width]
    alpha = (255 * np.clip(1.5 - 1.5 * np.hypot(y / height * 2 - 1, x / width * 2 - 1), 0, 1)).astype(np.uint8)
    cut_out = np.dstack([photo, alpha])
    cut_out[alpha == 0] = 0
    fast, small, smaller = (len(encode.to_png(cut_out, level)) for level in (1, 3, 6))
    assert smaller < small < 0.97 * fast


@pytest.mark.parametrize("width", EDGE_SIZES)
def test_strided_views_encode_like_copies(width):
    base = np.random.default_rng(width).integers(0, 256, (9, width + 7, 4), dtype=np.uint8)
    view = base[:, :width]
    assert encode.to_png(view) == encode.to_png(np.ascontiguousarray(view))


def test_bad_level():
    with pytest.raises(InvalidInputError, match="compress_level"):
        encode.to_png(np.zeros((2, 2, 4), np.uint8), 10)


@pytest.mark.parametrize("band", [1, 7, 64, 1000])
def test_banded_encoding_is_lossless_at_every_band_size(band):
    pixels = np.random.default_rng(band).integers(0, 256, (57, 43, 4), dtype=np.uint8)
    asked = []

    def rows(top, bottom):
        asked.append((top, bottom))
        return pixels[top:bottom]

    data = encode.png_from_rows(57, 43, 4, rows, band=band)
    with Image.open(io.BytesIO(data)) as image:
        assert np.array_equal(np.asarray(image), pixels)
    assert max(bottom - top for top, bottom in asked) <= band + 1, "never more than a band (and the row above)"
    assert encode.png_from_rows(57, 43, 4, rows, band=band, parallel=False) == data, "one thread: the same bytes"


@pytest.mark.parametrize("lengths", [(0, 0), (0, 5), (5, 0), (1, 1), (70000, 3), (3, 200000), (65521, 65521)])
def test_adler32_combine_equals_the_checksum_of_the_joined_bytes(lengths):
    rng = np.random.default_rng(sum(lengths))
    first, second = (rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in lengths)
    combined = encode.adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
    assert combined == zlib.adler32(first + second)


@pytest.mark.parametrize("level", [1, 6])
def test_bands_deflated_in_parallel_make_one_valid_zlib_stream(level):
    pixels = np.random.default_rng(level).integers(0, 4, (300, 97, 4), dtype=np.uint8)
    data = encode.png_from_rows(300, 97, 4, lambda top, bottom: pixels[top:bottom], level, band=16)
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # Pillow checks the zlib stream's Adler-32 and the chunk CRCs
        assert np.array_equal(np.asarray(image), pixels)


def test_a_forked_child_encodes_with_its_own_band_workers():
    """The parent's band threads do not exist in a fork; the child must start its own, not wait forever."""
    pixels = np.random.default_rng(7).integers(0, 256, (600, 64, 4), dtype=np.uint8)
    expected = encode.to_png(pixels)  # the parent's band workers are running now
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        signal.alarm(20)
        os.write(write_end, b"same" if encode.to_png(pixels) == expected else b"different")
        os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(child, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the child hung or crashed"
    assert os.read(read_end, 16) == b"same"


@pytest.mark.parametrize("file_format", ["PNG", "WEBP", "TIFF", "JPEG"])
def test_an_rgb_colour_profile_is_written_and_a_mask_gets_none(file_format):
    import cv2
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgba = np.random.default_rng(5).integers(0, 256, (37, 53, 4), dtype=np.uint8)
    rgba[..., 3] = 255  # JPEG takes opaque cut-outs only
    written = encode.to_file_format(rgba, file_format, profile)
    assert Image.open(io.BytesIO(written)).info.get("icc_profile") == profile
    mask = encode.to_file_format(np.ascontiguousarray(rgba[..., 3]), file_format, profile)
    assert "icc_profile" not in Image.open(io.BytesIO(mask)).info
    if file_format == "PNG":  # libpng (OpenCV) checks the iCCP chunk and reads the same pixels
        assert np.array_equal(cv2.imdecode(np.frombuffer(written, np.uint8), cv2.IMREAD_UNCHANGED)[..., [2, 1, 0, 3]], rgba)
        assert written == encode.to_png(rgba, icc_profile=profile) and b"iCCP" not in encode.to_png(rgba)
