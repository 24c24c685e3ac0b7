"""remove(): rembg parity on real photos, return types, options, and bad input."""

import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

import cleancut
from cleancut import ImageDecodeError, ImageTooLargeError, InvalidInputError, refine
from conftest import BatchSizes, photos

PHOTOS = photos()


def png_bytes(image: Image.Image, fmt: str = "PNG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def rembg_session(model_path):
    import rembg

    return rembg.new_session("u2netp")


@pytest.fixture(scope="module")
def same_backend_session(model_path):
    """ONNX Runtime fp32, as rembg runs: whatever auto-selection picks on this machine (possibly a
    reduced precision that `cleancut quantize` qualified) is held to fp32 by test_backends/test_precision."""
    return cleancut.new_session("u2netp", backend="onnxruntime-cpu")


@pytest.mark.rembg
@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_alpha_agrees_with_rembg(name, same_backend_session, rembg_session):
    import rembg

    image = PHOTOS[name]
    ours = cleancut.remove(image, session=same_backend_session, only_mask=True).astype(np.int16)
    theirs = np.asarray(rembg.remove(image, session=rembg_session, only_mask=True)).astype(np.int16)
    assert ours.shape == theirs.shape == image.shape[:2]
    assert np.abs(ours - theirs).mean() <= 1.0
    a, b = ours > 127, theirs > 127
    if b.mean() > 0.02:  # a clear subject
        assert (a & b).sum() / (a | b).sum() >= 0.99


@pytest.mark.rembg
def test_post_process_mask_agrees_with_rembg(same_backend_session, rembg_session):
    import rembg

    image = PHOTOS["astronaut"]
    ours = cleancut.remove(image, session=same_backend_session, only_mask=True, post_process_mask=True)
    theirs = np.asarray(rembg.remove(image, session=rembg_session, only_mask=True, post_process_mask=True))
    assert set(np.unique(ours)) <= {0, 255}
    assert (ours != theirs).mean() < 0.002


@pytest.mark.rembg
def test_rembg_remove_ports_unchanged(session):
    """rembg 2.0.86's remove(): the same parameters in the same positional order; its
    ``decontaminate`` is our refine_foreground, and its ViTMatte is refused in words."""
    import inspect

    import rembg

    def named(function):
        return [p.name for p in inspect.signature(function).parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]

    assert named(cleancut.remove) == named(rembg.remove)
    image = PHOTOS["astronaut"]
    positional = cleancut.remove(image, False, 240, 10, 10, session, False, False, True, False, None, (0, 0, 255, 255))
    assert np.array_equal(positional, cleancut.remove(image, session=session, refine_foreground=True, bgcolor=(0, 0, 255, 255)))
    assert np.array_equal(cleancut.remove_batch([image], session=session, decontaminate=True)[0],
                          cleancut.remove(image, session=session, refine_foreground=True))
    with pytest.raises(InvalidInputError, match="vitmatte"):
        cleancut.remove(image, session=session, vitmatte=True, vitmatte_model="vitmatte-s")


def test_session_predict_refuses_what_is_not_a_list_of_arrays_in_words(session):
    """rembg's ``session.predict(pil_image)`` returns masks; cleancut's takes arrays and says what to call instead."""
    image = PHOTOS["chelsea"]
    for wrong in (Image.fromarray(image), [Image.fromarray(image)], [b"png"], "abc", image):
        with pytest.raises(InvalidInputError, match=r"rembg's session.predict\(image\) is cleancut.remove"):
            session.predict(wrong)
    assert session.predict([image]).shape == (1, *session.input_size)


def test_alpha_is_soft(session):
    alpha = cleancut.remove(PHOTOS["astronaut"], session=session, only_mask=True)
    assert ((alpha > 0) & (alpha < 255)).sum() > 1000


def test_return_types_follow_the_input(session):
    image = PHOTOS["chelsea"]
    as_array = cleancut.remove(image, session=session)
    assert as_array.shape == (*image.shape[:2], 4) and as_array.dtype == np.uint8
    visible = as_array[..., 3] > 0
    assert np.array_equal(as_array[..., :3][visible], image[visible]), "straight colour: RGB untouched where seen"
    assert not as_array[~visible].any(), "nothing where alpha is 0: the background is not hidden in the file"
    kept = cleancut.remove(image, session=session, putalpha=True)
    assert np.array_equal(kept[..., :3], image) and np.array_equal(kept[..., 3], as_array[..., 3]), "rembg's putalpha keeps it"

    as_pil = cleancut.remove(Image.fromarray(image), session=session)
    assert isinstance(as_pil, Image.Image) and as_pil.mode == "RGBA"
    assert np.array_equal(np.asarray(as_pil), as_array)

    as_bytes = cleancut.remove(png_bytes(Image.fromarray(image)), session=session)
    decoded = Image.open(io.BytesIO(as_bytes))
    assert decoded.format == "PNG" and decoded.mode == "RGBA"
    assert np.array_equal(np.asarray(decoded), as_array)

    forced = cleancut.remove(image, session=session, force_return_bytes=True)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(forced))), as_array)


def colour_profiles() -> tuple[bytes, bytes]:
    """An RGB ICC profile and a Lab one (made by littleCMS, no files)."""
    from PIL import ImageCms

    return tuple(ImageCms.ImageCmsProfile(ImageCms.createProfile(space)).tobytes() for space in ("sRGB", "LAB"))


def icc_of(data: bytes) -> bytes | None:
    return Image.open(io.BytesIO(data)).info.get("icc_profile")


def test_a_cut_out_keeps_the_photos_rgb_colour_profile(session):
    """A cut-out's pixels are the photo's, in the photo's colour space: it carries the photo's RGB
    profile (PNG iCCP, PIL info), in remove() and remove_batch(), for every input kind that has one.
    Masks, arrays and profiles of other colour spaces carry none; the pixels are the same either way."""
    rgb, lab = colour_profiles()
    photo = Image.fromarray(PHOTOS["chelsea"])
    jpeg, png, webp = (png_bytes(photo, fmt, icc_profile=rgb) for fmt in ("JPEG", "PNG", "WEBP"))
    plain = cleancut.remove(png_bytes(photo, "PNG"), session=session)
    assert icc_of(plain) is None
    for tagged in (jpeg, png, webp):
        cut = cleancut.remove(tagged, session=session)
        assert icc_of(cut) == rgb
        assert icc_of(cleancut.remove(tagged, session=session, refine_foreground=True, bgcolor=(0, 0, 255, 255))) == rgb
        assert icc_of(cleancut.remove(tagged, session=session, only_mask=True)) is None
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(cleancut.remove(png, session=session)))), np.asarray(Image.open(io.BytesIO(plain))))

    as_pil = cleancut.remove(Image.open(io.BytesIO(jpeg)), session=session)
    assert as_pil.info.get("icc_profile") == rgb and icc_of(png_bytes(as_pil)) == rgb, "Pillow writes it on save"
    assert "icc_profile" not in cleancut.remove(Image.open(io.BytesIO(jpeg)), session=session, only_mask=True).info
    assert "icc_profile" not in cleancut.remove(Image.open(io.BytesIO(png_bytes(photo, "JPEG"))), session=session).info

    lab_tagged = png_bytes(photo, "JPEG", icc_profile=lab)
    assert icc_of(lab_tagged) == lab and icc_of(cleancut.remove(lab_tagged, session=session)) is None, "not an RGB profile"
    grey = png_bytes(photo.convert("L"), "PNG", icc_profile=rgb)
    assert icc_of(cleancut.remove(grey, session=session)) is None, "a grey photo's profile does not describe RGB pixels"

    batch = cleancut.remove_batch([jpeg, png_bytes(photo, "JPEG"), lab_tagged, Image.open(io.BytesIO(webp))], session=session)
    assert [icc_of(batch[0]), icc_of(batch[1]), icc_of(batch[2]), batch[3].info.get("icc_profile")] == [rgb, None, None, rgb]


def test_only_mask_bgcolor_and_premultiplied(session):
    image = PHOTOS["coffee"]
    mask = cleancut.remove(image, session=session, only_mask=True)
    assert mask.shape == image.shape[:2]
    assert cleancut.remove(Image.fromarray(image), session=session, only_mask=True).mode == "L"

    on_white = cleancut.remove(image, session=session, bgcolor=(255, 255, 255, 255))
    assert (on_white[..., 3] == 255).all()
    background = mask == 0
    assert (on_white[background][:, :3] == 255).all()

    premultiplied = cleancut.remove(image, session=session, premultiplied=True)
    expected = np.round(image.astype(np.float64) * mask[..., None] / 255)
    assert np.array_equal(premultiplied[..., :3], expected.astype(np.uint8))


def test_soft_refinement_keeps_the_alpha_soft(session):
    image = PHOTOS["astronaut"]
    base = cleancut.remove(image, session=session, only_mask=True)
    refined = cleancut.remove(image, session=session, only_mask=True, erode_radius=2, dilate_radius=2, edge_blur=1.5)
    assert np.array_equal(refined, refine.edge_blur(refine.dilate(refine.erode(base, 2), 2), 1.5))
    assert ((refined > 0) & (refined < 255)).sum() > 1000
    band = refine.edge_band(base)
    assert np.array_equal(refine.edge_blur(base, 2.0)[~band], base[~band])


def test_rgba_input_keeps_its_transparency(session):
    image = np.dstack([PHOTOS["chelsea"], np.zeros(PHOTOS["chelsea"].shape[:2], np.uint8)])
    image[:, : image.shape[1] // 2, 3] = 255
    out = cleancut.remove(image, session=session)
    assert not out[:, image.shape[1] // 2 :, 3].any()


def test_max_side_downscales_first(session):
    out = cleancut.remove(png_bytes(Image.fromarray(PHOTOS["rocket"]), "JPEG"), session=session, max_side=200)
    assert Image.open(io.BytesIO(out)).size == (200, 133)
    assert cleancut.remove(PHOTOS["rocket"], session=session, max_side=100).shape == (67, 100, 4)


def test_16_bit_arrays_of_either_byte_order(session):
    wide = PHOTOS["chelsea"].astype(np.uint16) * 257
    expected = cleancut.remove(PHOTOS["chelsea"], session=session)
    for order in ("<u2", ">u2"):  # a big-endian array was refused as "must be uint8 (or uint16), got >u2"
        assert np.array_equal(cleancut.remove(wide.astype(order), session=session), expected)


@pytest.mark.parametrize("mode", ["L", "LA", "La", "P", "PA", "CMYK", "I;16", "I", "F", "1", "RGBA", "RGBa", "YCbCr", "HSV", "LAB"])
def test_image_modes_decode_to_8bit(session, mode):
    base = Image.fromarray(PHOTOS["chelsea"])
    if mode == "I;16":
        image = Image.fromarray(np.asarray(base.convert("L")).astype(np.uint16) * 257)
        assert image.mode == "I;16"
    elif mode == "PA":
        image = base.convert("RGBA").convert("PA")
    elif mode in ("La", "RGBa"):  # premultiplied: Pillow makes them only from their straight modes
        image = base.convert(mode.upper()).convert(mode)
    else:
        image = base.convert(mode)
    out = cleancut.remove(image, session=session)
    assert out.mode == "RGBA" and out.size == base.size
    if mode in ("I;16", "I", "F", "L", "LA", "La"):
        grey, cut = np.asarray(base.convert("L")), np.asarray(out)
        seen = cut[..., 3] > 0
        assert seen.sum() > 1000 and np.abs(cut[..., 0][seen].astype(int) - grey[seen]).max() <= 1


def test_pil_images_that_cannot_load_are_decode_errors(session):
    """A PIL image opens lazily: its file may turn out truncated, or be closed, when we load it."""
    for fmt in ("PNG", "JPEG"):
        data = png_bytes(Image.fromarray(PHOTOS["coffee"]), fmt)
        with pytest.raises(ImageDecodeError, match="truncated"):
            cleancut.remove(Image.open(io.BytesIO(data[: len(data) // 2])), session=session)
    closed = Image.open(io.BytesIO(png_bytes(Image.fromarray(PHOTOS["coffee"]))))
    closed.close()
    with pytest.raises(ImageDecodeError, match="closed"):
        cleancut.remove(closed, session=session)


def test_palette_transparency_and_gif_first_frame(session):
    frames = [Image.new("P", (40, 30), i) for i in (1, 2)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], transparency=1)
    out = np.asarray(Image.open(io.BytesIO(cleancut.remove(gif.getvalue(), session=session))))
    assert out.shape == (30, 40, 4)
    assert not out[..., 3].any(), "palette index 1 is transparent in frame 0"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF"])
def test_formats(session, fmt):
    data = png_bytes(Image.fromarray(PHOTOS["coffee"]), fmt)
    out = Image.open(io.BytesIO(cleancut.remove(data, session=session)))
    assert out.size == (600, 400) and out.mode == "RGBA"


def test_exif_orientation_is_applied(session):
    image = Image.fromarray(PHOTOS["rocket"])
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    data = png_bytes(image, "JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(cleancut.remove(data, session=session))).size == (image.height, image.width)


@pytest.mark.parametrize("params", [{"quality": 92}, {"quality": 75, "subsampling": "4:4:4"}, {"quality": 85, "subsampling": "4:2:2"},
                                    {"quality": 90, "progressive": True}, {"quality": 50, "optimize": True}],
                         ids=["q92-420", "q75-444", "q85-422", "progressive", "q50-optimized"])
@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_jpeg_fast_path_decodes_the_pixels_pillow_decodes(monkeypatch, name, params):
    from cleancut import decode

    assert decode.simplejpeg is not None, "simplejpeg is a dependency"
    data = png_bytes(Image.fromarray(PHOTOS[name]), "JPEG", **params)
    fast = decode.decode(data)
    monkeypatch.setattr(decode, "simplejpeg", None)
    assert np.array_equal(fast, decode.decode(data))
    assert np.array_equal(fast, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


def test_jpegs_with_recoverable_damage_decode_as_pillow_decodes_them():
    """libjpeg-turbo's strict mode refuses these; Pillow accepts them, and so must we."""
    from cleancut import decode

    data = png_bytes(Image.fromarray(PHOTOS["coffee"]), "JPEG")
    scan = data.index(b"\xff\xda")
    damaged = [data[:scan] + b"\x00\x00\x00" + data[scan:],  # stray bytes before a marker
               data[: len(data) // 2] + b"\xff\xd0\xff\xd3" + data[len(data) // 2 + 4 :]]  # bogus restart markers
    for jpeg in damaged:
        with Image.open(io.BytesIO(jpeg)) as image:
            assert np.array_equal(decode.decode(jpeg), np.asarray(image.convert("RGB")))


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_grey_and_cmyk_jpegs_decode_as_pillow_converts_them(mode):
    from cleancut import decode

    data = png_bytes(Image.fromarray(PHOTOS["coffee"]).convert(mode), "JPEG")
    assert np.array_equal(decode.decode(data), np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


def truncated(fmt):
    data = png_bytes(Image.fromarray(PHOTOS["coffee"]), fmt)
    return data[: len(data) // 2]


def png_header_claiming(width, height):
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "data, error",
    [
        (b"", ImageDecodeError),
        (np.random.default_rng(0).bytes(5000), ImageDecodeError),
        (truncated("JPEG"), ImageDecodeError),
        (truncated("PNG"), ImageDecodeError),
        (png_header_claiming(50000, 50000), ImageTooLargeError),
        (np.array(5, np.uint8), InvalidInputError),
        (np.zeros((2, 3, 4, 5), np.uint8), InvalidInputError),
        (np.zeros((20, 30, 3), np.float64), InvalidInputError),
        (np.zeros((20, 30, 2), np.uint8), InvalidInputError),
        ("photo.jpg", InvalidInputError),
    ],
    ids=["empty", "random", "truncated-jpeg", "truncated-png", "50000x50000", "0-dim", "4-D", "float64", "2-channel", "str"],
)
def test_bad_input_raises_a_cleancut_error(session, data, error):
    with pytest.raises(error) as info:
        cleancut.remove(data, session=session)
    assert isinstance(info.value, ValueError) and str(info.value)


def test_pixel_limit_is_configurable(session):
    data = png_bytes(Image.fromarray(PHOTOS["coffee"]))
    with pytest.raises(ImageTooLargeError, match="240,000"):
        cleancut.remove(data, session=session, max_pixels=100_000)


@pytest.mark.parametrize("shape", [(1, 1, 3), (20000, 1, 3), (1, 20000, 3)])
def test_degenerate_sizes_give_a_cut(session, shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    out = cleancut.remove(image, session=session)
    assert out.shape == (*shape[:2], 4)
    seen = out[..., 3] > 0
    assert np.array_equal(out[..., :3][seen], image[seen]) and not out[~seen].any()


def test_compress_level_trades_speed_for_size_losslessly(session):
    data = png_bytes(Image.fromarray(PHOTOS["astronaut"]), "JPEG")
    fast, small = (cleancut.remove(data, session=session, compress_level=level) for level in (1, 6))
    assert len(small) < len(fast)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(small))), np.asarray(Image.open(io.BytesIO(fast))))
    assert cleancut.remove_batch([data, data], session=session, compress_level=6) == [small, small]
    for bad in (-1, 10, 2.5, "6"):
        with pytest.raises(InvalidInputError, match="compress_level"):
            cleancut.remove(data, session=session, compress_level=bad)


@pytest.mark.parametrize("bgcolor", [(1, 2), (1, 2, 3, 256), (1.5, 2, 3), (True, 2, 3), "1234", b"\x01\x02\x03", 7, {1, 2, 3}])
def test_bad_bgcolor(session, bgcolor):
    """Refused in words, not truncated or read character by character (1.5 was taken as 1, "1234" as (1, 2, 3, 4))."""
    with pytest.raises(InvalidInputError, match="bgcolor must be 3 or 4 integers"):
        cleancut.remove(PHOTOS["coffee"], session=session, bgcolor=bgcolor)


def test_bgcolor_takes_any_integer_sequence(session):
    image = PHOTOS["coffee"]
    expected = cleancut.remove(image, session=session, bgcolor=(10, 20, 30, 255))
    for same in ([10, 20, 30], np.array([10, 20, 30, 255]), (np.uint8(10), np.int64(20), 30)):
        assert np.array_equal(cleancut.remove(image, session=session, bgcolor=same), expected)


@pytest.mark.parametrize("keywords", [
    {"erode_radius": -1}, {"erode_radius": 1.5}, {"erode_radius": "3"}, {"dilate_radius": 10**9}, {"dilate_radius": True},
    {"edge_blur": float("nan")}, {"edge_blur": -1}, {"edge_blur": float("inf")}, {"edge_blur": 1e9},  # 1e9 crashed the process once
    {"max_side": 0}, {"max_side": 1.5}, {"max_pixels": 0}, {"alpha_matting": True, "alpha_matting_erode_size": "10"},
    {"alpha_matting": True, "alpha_matting_foreground_threshold": float("nan")},
], ids=repr)
def test_bad_keywords_are_refused_by_name_before_any_work(session, keywords):
    """Even with data that cannot be decoded, the keyword's own error comes first, naming it."""
    name = next(k for k in keywords if k != "alpha_matting")
    for call in (lambda: cleancut.remove(b"not an image", session=session, **keywords),
                 lambda: cleancut.remove_batch([b"not an image"], session=session, **keywords)):
        with pytest.raises(InvalidInputError, match=f"^{name} must be"):
            call()


def test_session_threads_must_be_a_positive_integer(model_path):
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(InvalidInputError, match="threads must be an integer >= 1"):
            cleancut.new_session(model_path, backend="onnxruntime-cpu", threads=bad)


def test_largest_refinement_keywords_still_cut(session):
    out = cleancut.remove(PHOTOS["coffee"][:40, :50], session=session, only_mask=True, erode_radius=1024, dilate_radius=1024, edge_blur=256)
    assert out.shape == (40, 50)


def test_wrong_session_or_items_are_refused_clearly(session):
    for wrong in ("u2netp", 42, object()):
        with pytest.raises(InvalidInputError, match="session must be a cleancut session"):
            cleancut.remove(PHOTOS["coffee"], session=wrong)
        with pytest.raises(InvalidInputError, match="session must be a cleancut session"):
            cleancut.remove_batch([PHOTOS["coffee"]], session=wrong)
    one_image = png_bytes(Image.fromarray(PHOTOS["coffee"]))
    for wrong in (one_image, Image.fromarray(PHOTOS["coffee"]), "photo.png"):
        with pytest.raises(InvalidInputError, match="sequence of images"):
            cleancut.remove_batch(wrong, session=session)
    assert len(cleancut.remove_batch(np.stack([PHOTOS["coffee"]] * 2), session=session)) == 2  # an array of images is a sequence
    from_a_generator = cleancut.remove_batch((PHOTOS[name] for name in ("coffee", "rocket")), session=session)
    assert [r.shape[:2] for r in from_a_generator] == [PHOTOS["coffee"].shape[:2], PHOTOS["rocket"].shape[:2]]
    with pytest.raises(InvalidInputError, match="sequence of images, not int"):
        cleancut.remove_batch(42, session=session)


def test_remove_batch_equals_remove_one_by_one(session):
    items = [png_bytes(Image.fromarray(PHOTOS["coffee"]), "JPEG"), Image.fromarray(PHOTOS["chelsea"]), PHOTOS["rocket"],
             PHOTOS["astronaut"], png_bytes(Image.fromarray(PHOTOS["retina"]))]
    for batch_size in (1, 2, 4):
        results = cleancut.remove_batch(items, session=session, batch_size=batch_size, bgcolor=(0, 0, 255), edge_blur=1.0)
        for item, result in zip(items, results, strict=True):
            expected = cleancut.remove(item, session=session, bgcolor=(0, 0, 255), edge_blur=1.0)
            if isinstance(expected, Image.Image):
                assert isinstance(result, Image.Image) and np.array_equal(np.asarray(result), np.asarray(expected))
            elif isinstance(expected, np.ndarray):
                assert np.array_equal(result, expected)
            else:
                assert result == expected


@pytest.mark.parametrize("backend", ["onnxruntime-cpu", "openvino-cpu"])
def test_lanes_split_the_threads_and_run_side_by_side_with_the_same_masks(model_path, backend):
    session = cleancut.new_session(model_path, backend=backend, threads=2)
    lanes = session.lanes(2)
    assert len({id(lane) for lane in lanes}) == 2 and session.lanes(2) == lanes, "made once"
    assert [(lane.backend, lane.threads) for lane in lanes] == [(backend, 1)] * 2
    assert session.lanes(1) == [session] and len(session.lanes(5)) == 2, "no more lanes than threads"
    photos = [[PHOTOS["chelsea"]], [PHOTOS["coffee"]]]
    expected = [session.predict(images) for images in photos]
    with ThreadPoolExecutor(2) as pool:
        side_by_side = list(pool.map(lambda lane, images: lane.predict(images), lanes, photos))
    for got, want in zip(side_by_side, expected):
        assert np.abs(got - want).max() <= 1e-5


def test_lanes_are_kept_by_thread_count_and_reused_for_every_count(model_path, monkeypatch):
    """Each CPU lane holds its own network, so lanes are made per thread count (a power of two),
    not per count of lanes: 8 threads asked for every count from 2 to 8 hold 8 + 4 + 2 lanes, not 35."""
    from cleancut import backends

    session = cleancut.new_session(model_path, backend="onnxruntime-cpu", threads=8)
    loaded = []

    def load(name, graph, threads, open_size):
        loaded.append(threads)
        return object()

    monkeypatch.setattr(backends, "load", load)
    lanes = {count: session.lanes(count) for count in range(2, 9)}
    assert [[lane.threads for lane in lanes[count]] for count in (2, 3, 4, 5, 8)] == [[4] * 2, [2] * 3, [2] * 4, [1] * 5, [1] * 8]
    assert sorted(loaded) == [1] * 8 + [2] * 4 + [4] * 2
    assert lanes[3] == lanes[4][:3] and lanes[5] == lanes[8][:5] and session.lanes(2) == lanes[2], "kept and reused"
    assert session.lanes(9) == lanes[8] and session.lanes(1) == [session]


def test_remove_batch_lanes_are_kept_threads_that_concurrent_calls_share(session):
    """Lane threads start once (fresh ones per call cost thousands of page faults) and calls from
    several threads at once share them, each getting its own results."""
    items = [PHOTOS["coffee"], PHOTOS["chelsea"], PHOTOS["rocket"]]
    expected = cleancut.remove_batch(items, session=session)

    def lane_threads():
        return {t.ident for t in threading.enumerate() if t.name.startswith("cleancut-lane")}

    lanes = lane_threads()
    with ThreadPoolExecutor(3) as callers:
        results = list(callers.map(lambda _: cleancut.remove_batch(items, session=session), range(3)))
    assert all(np.array_equal(got, want) for result in results for got, want in zip(result, expected, strict=True))
    assert lanes and lane_threads() == lanes


def test_remove_batch_spreads_images_over_the_cores_when_the_lanes_share_a_backend(model_path, monkeypatch):
    """A GPU backend is shared by all lanes, not split: there a chunk's images are decoded and
    encoded on the item threads (every core), not one after another in their lane, and every
    chunk reaches the network at batch_size (see Session.predict's pad_to). Faked on the CPU by
    telling the session its backend does not run there."""
    from cleancut import api, backends

    session = cleancut.new_session(model_path, backend="onnxruntime-cpu", threads=2)
    monkeypatch.setattr(backends, "runs_on_cpu", lambda name: False)
    assert session.lanes(3) == [session] * 2
    decoded_on = set()

    def decode_image(*args, **kwargs):
        decoded_on.add(threading.current_thread().name.split("_")[0])
        return real_decode(*args, **kwargs)

    real_decode = api.decode_image
    monkeypatch.setattr(api, "decode_image", decode_image)
    items = [png_bytes(Image.fromarray(PHOTOS[name]), "JPEG") for name in ("coffee", "chelsea", "rocket", "astronaut", "retina")]
    expected = [cleancut.remove(item, session=session) for item in items]
    session._backend = BatchSizes(session.backend, session._backend)
    for batch_size, threads, shapes in ((1, "cleancut-lane", [1] * 5), (2, "cleancut-item", [2] * 3), (8, "cleancut-item", [8])):
        decoded_on.clear()
        session._backend.sizes.clear()
        results = cleancut.remove_batch(items, session=session, batch_size=batch_size)
        assert decoded_on == {threads}, "one image per chunk stays in its lane"
        assert session._backend.sizes == shapes, "the short last chunk is padded: one shape per call"
        assert results == expected


def test_a_session_made_before_a_fork_still_cuts_the_same_in_the_child(session):
    """The runtimes' worker threads are not copied by fork (README, Processes): the child's cuts
    must still come out, and the same, not hang. It leaves by os._exit, as multiprocessing does:
    a normal exit hangs in ONNX Runtime's own teardown."""
    import signal

    items = [PHOTOS["coffee"], PHOTOS["chelsea"], PHOTOS["coffee"]]
    expected = [cleancut.remove(items[0], session=session), *cleancut.remove_batch(items, session=session)]
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        signal.alarm(60)
        got = [cleancut.remove(items[0], session=session), *cleancut.remove_batch(items, session=session)]
        os.write(write_end, b"same" if all(np.array_equal(a, b) for a, b in zip(got, expected)) else b"different")
        os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(child, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the child hung or crashed"
    assert os.read(read_end, 16) == b"same"


def test_remove_batch_raises_the_first_failing_item_in_order(session):
    items = [PHOTOS["coffee"], b"not an image", PHOTOS["chelsea"], np.zeros((2, 3, 4, 5), np.uint8)] * 2
    for batch_size in (1, 2, len(items)):  # the last: one lane, its images spread over the cores
        with pytest.raises(ImageDecodeError, match="^item 1: cannot identify"):
            cleancut.remove_batch(items, session=session, batch_size=batch_size)
    with pytest.raises(InvalidInputError, match="^item 1: arrays must be HxW or HxWxC"):
        cleancut.remove_batch(items[2:], session=session)


def test_remove_batch_errors(session):
    with pytest.raises(ImageDecodeError):
        cleancut.remove_batch([PHOTOS["coffee"], b"not an image"], session=session)
    with pytest.raises(InvalidInputError, match="batch_size"):
        cleancut.remove_batch([PHOTOS["coffee"]], session=session, batch_size=0)
    with pytest.raises(TypeError, match="unexpected keywords: colour"):
        cleancut.remove_batch([PHOTOS["coffee"]], session=session, colour=1)
    assert cleancut.remove_batch([], session=session) == []
