"""Every SIMD path equals the scalar oracle exactly; the oracles match PIL / OpenCV / scipy."""

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage, special

from cleancut import InvalidInputError, _native, refine
from conftest import EDGE_SIZES, SIMD_ISAS, strided, summed_taps

SCALAR = _native.kernel_set("scalar")
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

sizes = st.one_of(st.sampled_from(EDGE_SIZES), st.integers(1, 300))
small_sizes = st.one_of(st.sampled_from(EDGE_SIZES), st.integers(1, 80))
seeds = st.integers(0, 2**32 - 1)


def random_image(seed, h, w, channels=None, pad=0):
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels is None else (h, w, channels)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    return strided(image, pad) if pad else image


def smooth_image(seed, h, w, pad=0):
    """A random field that changes slowly, plus a little noise: a min or max over a wide window still
    depends on where the window is (over uniform noise it is 0 or 255 almost everywhere)."""
    rng = np.random.default_rng(seed)
    field = rng.standard_normal((h, w)).cumsum(0).cumsum(1)
    field = (field - field.min()) * (223 / max(np.ptp(field), 1e-9)) + rng.integers(0, 33, (h, w))
    image = field.astype(np.uint8)
    return strided(image, pad) if pad else image


def prepared(kernels, image, out_h=320, out_w=320):
    out = np.zeros((2, 3, out_h, out_w), np.float32)
    kernels.prepare(image, out, 1, MEAN, STD)
    assert not out[0].any(), "only the requested batch slot is written"
    return out[1]


def pil_lanczos(image, out_h, out_w):
    """Pillow's LANCZOS in its classic order (horizontal pass, then vertical)."""
    rgb = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    return np.asarray(rgb.resize((out_w, image.shape[0]), Image.Resampling.LANCZOS).resize((out_w, out_h), Image.Resampling.LANCZOS))


def test_capabilities_lists_the_running_isa():
    import cleancut

    caps = cleancut.capabilities()
    assert caps["isa"] == _native.active.isa
    assert caps["isa"] in caps["available"]
    assert set(caps["available"]) <= set(caps["compiled"])
    assert caps["available"][0] == "scalar"


@pytest.mark.parametrize("isa", SIMD_ISAS)
@settings(max_examples=40, deadline=None)
@given(h=sizes, w=sizes, out_h=small_sizes, out_w=small_sizes, channels=st.sampled_from([3, 4]),
       pad=st.sampled_from([0, 3]), seed=seeds)
def test_prepare_simd_equals_scalar(isa, h, w, out_h, out_w, channels, pad, seed):
    image = random_image(seed, h, w, channels, pad)
    expected = prepared(SCALAR, image, out_h, out_w)
    assert np.array_equal(prepared(_native.kernel_set(isa), image, out_h, out_w), expected)


@pytest.mark.parametrize("isa", _native.available_isas)
@settings(max_examples=30, deadline=None)
@given(h=sizes, w=sizes, out_h=small_sizes, out_w=small_sizes, cuts=st.lists(st.floats(0, 1), max_size=4), seed=seeds)
def test_prepare_in_bands_of_rows_equals_prepare_whole(isa, h, w, out_h, out_w, cuts, seed):
    """Bands of output rows, each resampling the source rows it reads, then one normalisation by
    the bands' max: what prepare(threads=...) runs, bit for bit the whole-image result."""
    kernels = _native.kernel_set(isa)
    image = random_image(seed, h, w, 3)
    edges = sorted({0, out_h, *(int(c * out_h) for c in cuts)})
    out = np.zeros((2, 3, out_h, out_w), np.float32)
    peaks = []
    for y0, y1 in zip(edges, edges[1:]):
        peaks.append(kernels.prepare_rows(image, out, 1, y0, y1))
        assert not out[1, :, y1:].any(), "a band writes its own rows only"
        assert peaks[-1] == out[1, :, y0:y1].max()
    kernels.normalise(out, 1, max(peaks), MEAN, STD)
    assert not out[0].any() and np.array_equal(out[1], prepared(kernels, image, out_h, out_w))


@pytest.mark.parametrize("threads", [2, 3, 7])
@pytest.mark.parametrize("shape", [(1200, 900), (2048, 2048), (4001, 333)])
def test_prepare_on_several_threads_equals_one(threads, shape):
    from cleancut.prepare import prepare

    image = random_image(5, *shape, 4)
    one, several = (prepare(image, np.zeros((1, 3, 320, 320), np.float32), 0, MEAN, STD, threads=t) for t in (1, threads))
    assert np.array_equal(one, several)


@pytest.mark.parametrize("threads", [1, 4])
def test_prepare_refuses_bad_shapes_clearly_on_any_number_of_threads(threads):
    from cleancut.prepare import prepare

    big = np.zeros((2048, 2048, 3), np.uint8)
    with pytest.raises(InvalidInputError, match="3-D"):
        prepare(np.zeros(5, np.uint8), np.zeros((1, 3, 8, 8), np.float32), threads=threads)
    with pytest.raises(InvalidInputError, match=r"\(N, 3, H, W\)"):
        prepare(big, np.zeros((3, 8, 8), np.float32), threads=threads)
    with pytest.raises(InvalidInputError, match="slot"):
        prepare(big, np.zeros((1, 3, 8, 8), np.float32), slot=1, threads=threads)


@pytest.mark.parametrize("shape", [(1, 1), (3, 2000), (517, 389), (100, 77), (1024, 768), (320, 320)])
def test_prepare_matches_pillow_lanczos_and_rembg_normalisation(shape):
    image = random_image(7, *shape, 3)
    reference = pil_lanczos(image, 320, 320).astype(np.float64)
    normalised = (reference / max(reference.max(), 1e-6) - MEAN) / STD
    got = prepared(_native.active, image)
    np.testing.assert_allclose(got, normalised.transpose(2, 0, 1), rtol=0, atol=2e-6)


def test_prepare_ignores_the_alpha_channel():
    rgba = random_image(3, 50, 60, 4)
    assert np.array_equal(prepared(_native.active, rgba), prepared(_native.active, rgba[..., :3].copy()))


def side_maps(seed, shapes, pad=0, tapped=()):
    """Random side maps; those at the indices in ``tapped`` as the nine taps of a 3x3 convolution."""
    rng = np.random.default_rng(seed)
    maps = []
    for i, shape in enumerate(shapes):
        if i in tapped:
            taps = rng.normal(0, 2, (9, shape[0], shape[1] + pad)).astype(np.float32)
            maps.append(taps[:, :, : shape[1]] if pad else taps)
        else:
            plane = rng.normal(0, 4, shape).astype(np.float32)
            maps.append(strided(plane, pad) if pad else plane)
    return maps


def fused_in_float64(maps, weights, bias, height, width, biases):
    """The taps summed, ONNX Resize (linear, half_pixel) of every map, the weighted sum and the sigmoid."""
    def taps(source, out):
        at = np.clip((np.arange(out) + 0.5) * source / out - 0.5, 0, source - 1)
        first = at.astype(int)
        return first, np.minimum(first + 1, source - 1), at - first

    total = np.full((height, width), bias, np.float64)
    for side, weight, side_bias in zip(maps, weights, biases):
        side = summed_taps(side, side_bias) if side.ndim == 3 else side.astype(np.float64)
        top, bottom, fy = taps(side.shape[0], height)
        left, right, fx = taps(side.shape[1], width)
        rows = side[:, left] * (1 - fx) + side[:, right] * fx
        total += weight * (rows[top] * (1 - fy)[:, None] + rows[bottom] * fy[:, None])
    return special.expit(total)


@pytest.mark.parametrize("isa", SIMD_ISAS)
@settings(max_examples=40, deadline=None)
@given(h=small_sizes, w=small_sizes, shapes=st.lists(st.tuples(small_sizes, small_sizes), min_size=1, max_size=4),
       tapped=st.sets(st.integers(0, 4)), pad=st.sampled_from([0, 3]), seed=seeds)
def test_fuse_side_maps_simd_equals_scalar(isa, h, w, shapes, tapped, pad, seed):
    maps = side_maps(seed, [(h, w), *shapes], pad, tapped)  # one map already full size, as U²-Net's first
    weights = list(np.random.default_rng(seed).normal(0, 1, len(maps)))
    biases = list(np.random.default_rng(seed + 1).normal(0, 1, len(maps)))
    expected = SCALAR.fuse_side_maps(maps, weights, 0.25, h, w, biases)
    assert np.array_equal(_native.kernel_set(isa).fuse_side_maps(maps, weights, 0.25, h, w, biases), expected)


@pytest.mark.parametrize("tapped", [(), (0, 1, 2, 3, 4, 5)])
def test_fuse_side_maps_matches_onnx_upsampling_and_sigmoid(tapped):
    # u2netp's head: 320² plus five maps at 160² .. 10², its own weights; large values saturate.
    maps = side_maps(3, [(320, 320), (160, 160), (80, 80), (40, 40), (20, 20), (10, 10)], tapped=tapped)
    if not tapped:  # saturation (on taps, values this large would cancel in float32 rounding)
        maps[0][:3, :3] = [[-1e4], [1e4], [90.0]]
    weights, biases = [0.98, 0.016, -0.0043, 0.0052, 0.0026, 0.0016], [0.5, -0.1, 0.0, 0.2, 0.3, -0.4]
    got = _native.active.fuse_side_maps(maps, weights, 3e-4, 320, 320, biases)
    assert np.abs(got - fused_in_float64(maps, weights, 3e-4, 320, 320, biases if tapped else [0] * 6)).max() < 1e-6
    assert np.isfinite(got).all()
    if not tapped:
        assert got[0, 0] < 1e-30 and got[1, 0] == 1


def test_fuse_side_maps_refuses_bad_input_clearly():
    good = side_maps(0, [(8, 8), (4, 4)])
    with pytest.raises(InvalidInputError, match="one weight per map"):
        _native.active.fuse_side_maps(good, [1.0], 0.0, 8, 8)
    with pytest.raises(InvalidInputError, match="float32"):
        _native.active.fuse_side_maps([good[0].astype(np.float64)], [1.0], 0.0, 8, 8)
    with pytest.raises(InvalidInputError, match="2-D"):
        _native.active.fuse_side_maps([good[0][None, None]], [1.0], 0.0, 8, 8)
    with pytest.raises(InvalidInputError, match="contiguous"):
        _native.active.fuse_side_maps([good[0][:, ::2]], [1.0], 0.0, 8, 8)
    with pytest.raises(InvalidInputError, match="positive"):
        _native.active.fuse_side_maps(good, [1.0, 1.0], 0.0, 0, 8)
    with pytest.raises(InvalidInputError, match="one bias per map"):
        _native.active.fuse_side_maps(good, [1.0, 1.0], 0.0, 8, 8, [0.0])
    with pytest.raises(InvalidInputError, match="9 taps"):
        _native.active.fuse_side_maps([np.zeros((4, 8, 8), np.float32)], [1.0], 0.0, 8, 8)
    overlapping = np.lib.stride_tricks.as_strided(good[0], (9, 8, 8), (4, 32, 4))
    with pytest.raises(InvalidInputError, match="overlapping"):
        _native.active.fuse_side_maps([overlapping], [1.0], 0.0, 8, 8)


@pytest.mark.parametrize("isa", SIMD_ISAS)
@settings(max_examples=40, deadline=None)
@given(src_h=small_sizes, src_w=small_sizes, h=sizes, w=sizes, seed=seeds)
def test_upsample_mask_simd_equals_scalar(isa, src_h, src_w, h, w, seed):
    saliency = np.random.default_rng(seed).random((src_h, src_w), dtype=np.float32)
    expected = SCALAR.upsample_mask(saliency, h, w)
    assert np.array_equal(_native.kernel_set(isa).upsample_mask(saliency, h, w), expected)
    view = np.zeros((src_h, src_w + 7), np.float32)[:, :src_w]
    view[:] = saliency
    assert np.array_equal(_native.kernel_set(isa).upsample_mask(view, h, w), expected)


@pytest.mark.parametrize("size", [(37, 41), (512, 512), (1411, 1000)])
def test_upsample_mask_matches_pillow_float_lanczos(size):
    rng = np.random.default_rng(1)
    saliency = ndimage.gaussian_filter(rng.random((320, 320)), 3).astype(np.float32)
    normalised = (saliency - saliency.min()) / (saliency.max() - saliency.min()) * 255
    reference = np.asarray(Image.fromarray(normalised.astype(np.float32), "F").resize(size[::-1], Image.Resampling.LANCZOS))
    got = _native.active.upsample_mask(saliency, *size).astype(np.float64)
    assert np.abs(got - np.clip(reference, 0, 255)).max() <= 1.0


def test_upsample_mask_of_a_flat_map_is_empty():
    assert not _native.active.upsample_mask(np.full((320, 320), 0.3, np.float32), 20, 30).any()


@pytest.mark.parametrize("isa", SIMD_ISAS)
@pytest.mark.parametrize("mode", ["straight", "cutout", "premultiplied", "over_color"])
@settings(max_examples=30, deadline=None)
@given(h=sizes, w=sizes, channels=st.sampled_from([3, 4]), pad=st.sampled_from([0, 2]), seed=seeds,
       bg=st.tuples(*[st.integers(0, 255)] * 4))
def test_compose_simd_equals_scalar(isa, mode, h, w, channels, pad, seed, bg):
    image = random_image(seed, h, w, channels, pad)
    alpha = random_image(seed + 1, h, w, None, pad)
    expected = SCALAR.compose(image, alpha, mode, bg)
    assert np.array_equal(_native.kernel_set(isa).compose(image, alpha, mode, bg), expected)


def test_compose_matches_reference_formulas():
    image, alpha = random_image(1, 64, 77, 3), random_image(2, 64, 77)
    alpha[::7, ::5] = 0
    straight = _native.active.compose(image, alpha, "straight")
    assert np.array_equal(straight[..., :3], image) and np.array_equal(straight[..., 3], alpha)
    cut = _native.active.compose(image, alpha, "cutout")
    assert np.array_equal(cut, np.where(alpha[..., None] > 0, straight, 0)), "straight, and nothing where alpha is 0"
    premultiplied = _native.active.compose(image, alpha, "premultiplied")
    expected = np.round(image.astype(np.float64) * alpha[..., None] / 255).astype(np.uint8)
    assert np.array_equal(premultiplied[..., :3], expected)
    rgba = np.dstack([image, alpha])
    assert np.array_equal(_native.active.compose(rgba, np.full_like(alpha, 255), "straight"), rgba)


@pytest.mark.parametrize("bg", [(255, 255, 255, 255), (10, 200, 30, 128), (0, 0, 0, 0)])
def test_compose_over_color_matches_pillow_alpha_composite(bg):
    image, alpha = random_image(1, 64, 77, 3), random_image(2, 64, 77)
    cut = Image.fromarray(np.dstack([image, alpha]), "RGBA")
    reference = np.asarray(Image.alpha_composite(Image.new("RGBA", cut.size, bg), cut)).astype(int)
    got = _native.active.compose(image, alpha, "over_color", bg).astype(int)
    visible = reference[..., 3] > 0
    assert np.abs(got[..., 3] - reference[..., 3]).max() <= 1
    assert np.abs(got[visible][:, :3] - reference[visible][:, :3]).max() <= 1


def disk(radius):
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y <= radius * radius).astype(np.uint8)


@pytest.mark.parametrize("isa", SIMD_ISAS)
@settings(max_examples=30, deadline=None)
@given(h=sizes, w=sizes, radius=st.integers(0, 9), op=st.sampled_from(["erode", "dilate"]),
       shape=st.sampled_from(["square", "disk"]), pad=st.sampled_from([0, 4]), seed=seeds)
def test_morphology_simd_equals_scalar(isa, h, w, radius, op, shape, pad, seed):
    mask = random_image(seed, h, w, None, pad)
    expected = SCALAR.morphology(mask, op, shape, radius)
    assert np.array_equal(_native.kernel_set(isa).morphology(mask, op, shape, radius), expected)


@pytest.mark.parametrize("shape", ["square", "disk"])
@pytest.mark.parametrize("radius", [1, 3])
def test_opening_and_closing_match_opencv(radius, shape):
    mask = random_image(5, 61, 83)
    element = np.ones((2 * radius + 1,) * 2, np.uint8) if shape == "square" else disk(radius)
    assert np.array_equal(refine.opening(mask, radius, shape), cv2.morphologyEx(mask, cv2.MORPH_OPEN, element))
    assert np.array_equal(refine.closing(mask, radius, shape), cv2.morphologyEx(mask, cv2.MORPH_CLOSE, element))


@pytest.mark.parametrize("isa", SIMD_ISAS)
@settings(max_examples=30, deadline=None)
@given(h=sizes, w=sizes, radius=st.integers(65, 200), op=st.sampled_from(["erode", "dilate"]),
       pad=st.sampled_from([0, 4]), seed=seeds)
def test_square_morphology_rows_by_transposed_strips_equal_scalar(isa, h, w, radius, op, pad, seed):
    """Past radius 64 the rows go through transposed strips of one vector's width: partial strips,
    partial tiles and radii past the image all meet the byte-by-byte oracle."""
    mask = smooth_image(seed, h, w, pad)
    expected = SCALAR.morphology(mask, op, "square", radius)
    assert np.array_equal(_native.kernel_set(isa).morphology(mask, op, "square", radius), expected)


@pytest.mark.parametrize("isa", _native.available_isas)
@pytest.mark.parametrize("radius", [8, 64, 65, 1024])
def test_square_morphology_matches_opencv_on_a_power_of_two_width(isa, radius):
    """Rows of 2048 bytes (the stride that thrashes L1 sets when transposed naively), 3 strips."""
    mask = smooth_image(11, 150, 2048)
    element = np.ones((2 * radius + 1,) * 2, np.uint8)
    for op, reference in (("erode", cv2.erode(mask, element)), ("dilate", cv2.dilate(mask, element))):
        assert len(np.unique(reference)) >= 3  # the windows do not all see the same extreme
        assert np.array_equal(_native.kernel_set(isa).morphology(mask, op, "square", radius), reference)


@pytest.mark.parametrize("radius", [1, 2, 5, 12])
@pytest.mark.parametrize("shape", ["square", "disk"])
@pytest.mark.parametrize("op", ["erode", "dilate"])
def test_morphology_matches_opencv(radius, shape, op):
    mask = random_image(3, 97, 131)
    element = np.ones((2 * radius + 1,) * 2, np.uint8) if shape == "square" else disk(radius)
    reference = (cv2.erode if op == "erode" else cv2.dilate)(mask, element)
    assert np.array_equal(_native.active.morphology(mask, op, shape, radius), reference)


@pytest.mark.parametrize("isa", _native.available_isas)
@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 90), w=st.integers(1, 90), radius=st.integers(0, 150), op=st.sampled_from(["erode", "dilate"]),
       shape=st.sampled_from(["square", "disk"]), seed=seeds)
def test_morphology_matches_opencv_for_radii_beyond_the_image(isa, h, w, radius, op, shape, seed):
    """Blocks of 2r+1 rows and bands of rows cut the image at every place, also where r > h."""
    mask = smooth_image(seed, h, w)
    element = np.ones((2 * radius + 1,) * 2, np.uint8) if shape == "square" else disk(radius)
    reference = (cv2.erode if op == "erode" else cv2.dilate)(mask, element)
    assert np.array_equal(_native.kernel_set(isa).morphology(mask, op, shape, radius), reference)


@pytest.mark.parametrize("isa", SIMD_ISAS)
@settings(max_examples=30, deadline=None)
@given(h=sizes, w=sizes, sigma=st.floats(0.0, 6.0), pad=st.sampled_from([0, 4]), seed=seeds)
def test_blur_simd_equals_scalar(isa, h, w, sigma, pad, seed):
    mask = random_image(seed, h, w, None, pad)
    assert np.array_equal(_native.kernel_set(isa).gaussian_blur(mask, sigma), SCALAR.gaussian_blur(mask, sigma))


@pytest.mark.parametrize("sigma", [0.5, 2.0, 4.5])
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (120, 97)])
def test_blur_matches_scipy(sigma, shape):
    mask = random_image(4, *shape)
    reference = ndimage.gaussian_filter(mask.astype(np.float64), sigma, mode="reflect", truncate=4.0)
    got = _native.active.gaussian_blur(mask, sigma).astype(np.float64)
    assert np.abs(got - np.round(reference)).max() <= 1


@pytest.mark.parametrize("isa", SIMD_ISAS)
def test_huge_and_degenerate_images(isa):
    simd = _native.kernel_set(isa)
    for h, w in [(20000, 1), (1, 20000), (2500, 2500)]:
        image = random_image(h + w, h, w, 3)
        mask = random_image(h * w, h, w)
        assert np.array_equal(prepared(simd, image), prepared(SCALAR, image))
        assert np.array_equal(simd.compose(image, mask, "premultiplied"), SCALAR.compose(image, mask, "premultiplied"))
        assert np.array_equal(simd.morphology(mask, "dilate", "disk", 3), SCALAR.morphology(mask, "dilate", "disk", 3))
        assert np.array_equal(simd.gaussian_blur(mask, 2.0), SCALAR.gaussian_blur(mask, 2.0))
        saliency = np.random.default_rng(0).random((320, 320), dtype=np.float32)
        assert np.array_equal(simd.upsample_mask(saliency, h, w), SCALAR.upsample_mask(saliency, h, w))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda k: k.morphology(np.zeros((4, 4), np.float32), "erode"), "dtype uint8"),
        (lambda k: k.morphology(np.zeros((4, 4, 3), np.uint8), "erode"), "channel"),
        (lambda k: k.morphology(np.zeros((4,), np.uint8), "erode"), "2-D"),
        (lambda k: k.morphology(np.zeros((0, 4), np.uint8), "erode"), "empty"),
        (lambda k: k.morphology(np.zeros((4, 8), np.uint8)[:, ::2], "erode"), "packed pixels"),
        (lambda k: k.morphology(np.zeros((4, 4), np.uint8), "melt"), "op must be"),
        (lambda k: k.morphology(np.zeros((4, 4), np.uint8), "erode", "disk", -1), "radius"),
        (lambda k: k.gaussian_blur(np.zeros((4, 4), np.uint8), float("nan")), "sigma"),
        (lambda k: k.gaussian_blur(np.zeros((4, 4), np.uint8), 1e9), "sigma must be at most 256"),  # its radius overflowed int once
        (lambda k: k.gaussian_blur(np.zeros((4, 4), np.uint8), 1.0, 1025), "radius must be at most 1024"),
        (lambda k: k.compose(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5), np.uint8)), "height and width"),
        (lambda k: k.compose(np.zeros((4, 4, 2), np.uint8), np.zeros((4, 4), np.uint8)), "channel"),
        (lambda k: k.compose(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8), "blend"), "compose mode"),
        (lambda k: k.compose(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8), "over_color", (0, 0, 0, 300)), "0..255"),
        (lambda k: k.compose(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8), out=np.zeros((4, 4, 3), np.uint8)), "shape"),
        (lambda k: k.prepare(np.zeros((4, 4, 3), np.uint8), np.zeros((1, 3, 8, 8), np.float64), 0, MEAN, STD), "float32"),
        (lambda k: k.prepare(np.zeros((4, 4, 3), np.uint8), np.zeros((1, 3, 8, 8), np.float32), 1, MEAN, STD), "slot"),
        (lambda k: k.prepare(np.zeros((4, 4, 3), np.uint8), np.zeros((3, 8, 8), np.float32), 0, MEAN, STD), "(N, 3, H, W)"),
        (lambda k: k.prepare(np.zeros((4, 4, 3), np.uint8), np.zeros((1, 3, 8, 8), np.float32)[..., ::2], 0, MEAN, STD), "C-contiguous"),
        (lambda k: k.prepare_rows(np.zeros((4, 4, 3), np.uint8), np.zeros((1, 3, 8, 8), np.float32), 0, 3, 3), "y0 < y1"),
        (lambda k: k.prepare_rows(np.zeros((4, 4, 3), np.uint8), np.zeros((1, 3, 8, 8), np.float32), 0, 0, 9), "<= 8"),
        (lambda k: k.prepare_rows(np.zeros((4, 4, 3), np.uint8), np.zeros((1, 3, 8, 8), np.float32), 0, -1, 2), "0 <= y0"),
        (lambda k: k.prepare_rows(np.zeros((4, 4, 3), np.uint8), np.zeros((1, 3, 8, 8), np.float32), 2, 0, 2), "slot"),
        (lambda k: k.normalise(np.zeros((1, 3, 8, 8), np.float32), 0, float("nan"), MEAN, STD), "image_max"),
        (lambda k: k.normalise(np.zeros((1, 3, 8, 8), np.float32), 0, 1.0, MEAN, (1, 0, 1)), "std"),
        (lambda k: k.upsample_mask(np.zeros((4, 4), np.float64), 5, 5), "float32"),
        (lambda k: k.upsample_mask(np.zeros((4, 4), np.float32), 0, 5), "positive"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, message):
    for isa in _native.available_isas:
        with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
            call(_native.kernel_set(isa))


@pytest.mark.parametrize("isa", SIMD_ISAS)
def test_largest_radii_on_tiny_masks(isa):
    """The widest element the bindings allow (radius 1024) reflects over and over on a 1-pixel side."""
    simd = _native.kernel_set(isa)
    for h, w in [(1, 1), (1, 7), (3, 1)]:
        mask = random_image(h * w, h, w)
        assert np.array_equal(simd.gaussian_blur(mask, _native.max_radius / 4), SCALAR.gaussian_blur(mask, _native.max_radius / 4))
        assert np.array_equal(simd.morphology(mask, "erode", "disk", _native.max_radius), SCALAR.morphology(mask, "erode", "disk", _native.max_radius))


def test_out_buffers_are_written_in_place():
    mask = random_image(5, 30, 40)
    out = np.zeros_like(mask)
    assert _native.active.gaussian_blur(mask, 1.5, out=out) is out
    assert np.array_equal(out, SCALAR.gaussian_blur(mask, 1.5))


@pytest.mark.parametrize("isa", SIMD_ISAS)
@settings(max_examples=30, deadline=None)
@given(h=sizes, w=sizes, channels=st.sampled_from([1, 3, 4]), pad=st.sampled_from([0, 3]), seed=seeds)
def test_png_filter_simd_equals_scalar(isa, h, w, channels, pad, seed):
    image = random_image(seed, h, w, None if channels == 1 else channels, pad)
    expected = SCALAR.png_filter_up(image)
    assert expected.shape == (h, w * channels + 1) and (expected[:, 0] == 2).all()
    assert np.array_equal(_native.kernel_set(isa).png_filter_up(image), expected)
