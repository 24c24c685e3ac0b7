"""Edge refinement: foreground colour estimation and alpha matting (kernels, remove(), surfaces)."""

import io
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage import data

import cleancut
from cleancut import InvalidInputError, _native, refine
from conftest import EDGE_SIZES, SIMD_ISAS, strided

SCALAR = _native.kernel_set("scalar")
sizes = st.one_of(st.sampled_from(EDGE_SIZES), st.integers(1, 200))
seeds = st.integers(0, 2**32 - 1)


def random_pixels(seed, h, w, channels=None, pad=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w) if channels is None else (h, w, channels), dtype=np.uint8)
    return strided(image, pad) if pad else image


def soft_disk(h, w, softness=6.0):
    """An alpha with a wide soft edge: a disk whose border ramps over ~2*softness pixels."""
    y, x = np.mgrid[0:h, 0:w]
    distance = np.hypot(y - h / 2, x - w / 2) - min(h, w) * 0.3
    return np.clip(127.5 - distance * 127.5 / softness, 0, 255).astype(np.uint8)


def composite(foreground, alpha, background):
    a = alpha[..., None] / 255.0
    return np.clip(a * foreground + (1 - a) * background + 0.5, 0, 255).astype(np.uint8)


def band_error(estimate, foreground, alpha):
    band = (alpha > 0) & (alpha < 255)
    return np.abs(estimate[..., :3].astype(float) - foreground)[band].mean()


@pytest.mark.parametrize("isa", SIMD_ISAS)
@settings(max_examples=40, deadline=None)
@given(h=sizes, w=sizes, channels=st.sampled_from([3, 4]), pad=st.sampled_from([0, 3]), seed=seeds,
       large=st.integers(1, 90), small=st.integers(1, 12))
def test_estimate_foreground_simd_equals_scalar(isa, h, w, channels, pad, seed, large, small):
    image, alpha = random_pixels(seed, h, w, channels, pad), random_pixels(seed + 1, h, w, None, pad)
    expected = SCALAR.estimate_foreground(image, alpha, large, small)
    assert expected.shape == (h, w, 4) and np.array_equal(expected[..., 3], alpha)
    assert np.array_equal(_native.kernel_set(isa).estimate_foreground(image, alpha, large, small), expected)
    fg, bg = _native.kernel_set(isa).estimate_foreground(image, alpha, large, small, with_background=True)
    assert np.array_equal(fg, expected) and np.array_equal(bg[..., 3], 255 - alpha)
    assert all(np.array_equal(a, b) for a, b in zip((fg, bg), SCALAR.estimate_foreground(image, alpha, large, small, with_background=True)))


@pytest.mark.parametrize("isa", SIMD_ISAS)
@settings(max_examples=40, deadline=None)
@given(h=sizes, w=sizes, channels=st.sampled_from([3, 4]), pad=st.sampled_from([0, 3]), seed=seeds,
       iterations=st.integers(1, 3))
def test_multilevel_foreground_simd_equals_scalar(isa, h, w, channels, pad, seed, iterations):
    image, alpha = random_pixels(seed, h, w, channels, pad), random_pixels(seed + 1, h, w, None, pad)
    expected = SCALAR.estimate_foreground_ml(image, alpha, iterations)
    assert expected.shape == (h, w, 4) and np.array_equal(expected[..., 3], alpha)
    assert np.array_equal(_native.kernel_set(isa).estimate_foreground_ml(image, alpha, iterations), expected)


@pytest.mark.parametrize("isa", SIMD_ISAS)
@settings(max_examples=40, deadline=None)
@given(h=sizes, w=sizes, channels=st.sampled_from([3, 4]), pad=st.sampled_from([0, 3]), seed=seeds,
       radius=st.integers(0, 90), eps=st.sampled_from([0.5, 65.0, 6502.5]))
def test_guided_filter_simd_equals_scalar(isa, h, w, channels, pad, seed, radius, eps):
    guide, mask = random_pixels(seed, h, w, channels, pad), random_pixels(seed + 1, h, w, None, pad)
    expected = SCALAR.guided_filter(guide, mask, radius, eps)
    assert np.array_equal(_native.kernel_set(isa).guided_filter(guide, mask, radius, eps), expected)


@pytest.mark.parametrize("isa", SIMD_ISAS)
def test_huge_and_degenerate_images(isa):
    simd = _native.kernel_set(isa)
    for h, w in [(20000, 1), (1, 20000), (1500, 1300)]:
        image, alpha = random_pixels(h, h, w, 3), random_pixels(w, h, w)
        assert np.array_equal(simd.estimate_foreground(image, alpha), SCALAR.estimate_foreground(image, alpha))
        assert np.array_equal(simd.guided_filter(image, alpha, 16, 65.0), SCALAR.guided_filter(image, alpha, 16, 65.0))
        assert np.array_equal(simd.estimate_foreground_ml(image, alpha), SCALAR.estimate_foreground_ml(image, alpha))


def resident_mib() -> float:
    with open("/proc/self/status") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_multilevel_keeps_no_full_size_levels_after_the_call():
    """Levels over a 2048² photo's are the call's own: kept per thread as scratch, one 6000x4000
    photo left the thread holding 1.2 GB after the call, this 3000x3000 one 439 MiB (now 118)."""
    image = np.ascontiguousarray(np.broadcast_to(np.arange(3000, dtype=np.uint8)[:, None, None], (3000, 3000, 3)))
    alpha = soft_disk(3000, 3000, softness=40.0)
    before = resident_mib()
    result = _native.active.estimate_foreground_ml(image, alpha, 2)
    del result
    assert resident_mib() - before < 200
    for isa in SIMD_ISAS:  # and the levels in those buffers give the scalar oracle's result
        assert np.array_equal(_native.kernel_set(isa).estimate_foreground_ml(image, alpha, 2), SCALAR.estimate_foreground_ml(image, alpha, 2))


PEAK_OF_A_3000_SQUARE_SWEEP = """
import resource, numpy as np
from cleancut import _native
image = np.random.default_rng(0).integers(0, 256, (3000, 3000, 3), dtype=np.uint8)
alpha = np.full((3000, 3000), 128, np.uint8)  # soft everywhere: every pixel is swept
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
_native.active.estimate_foreground_ml(image, alpha, 2)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB")
def test_multilevel_holds_only_foreground_and_background_at_full_size():
    """The full-size level holds F and B whole (6 float planes); its image and alpha rows are made
    as the sweeps reach them. Peak growth for 3000x3000 (in a fresh process, for its own high-water
    mark): 359 MiB, 497 when all 10 planes were full size."""
    import subprocess

    peak = subprocess.run([sys.executable, "-c", PEAK_OF_A_3000_SQUARE_SWEEP], capture_output=True, text=True, check=True)
    assert int(peak.stdout) < 420


def test_blur_fusion_is_exact_where_alpha_is_opaque_or_clear():
    image, alpha = random_pixels(1, 50, 60, 3), random_pixels(2, 50, 60)
    alpha[10:20], alpha[30:40] = 255, 0
    out = refine.estimate_foreground(image, alpha, "blur_fusion")
    assert np.array_equal(out[10:20, :, :3], image[10:20])  # alpha = 1: F = I exactly
    _, background = _native.active.estimate_foreground(image, alpha, 90, 3, with_background=True)
    assert np.array_equal(background[30:40, :, :3], image[30:40])  # alpha = 0: B = I exactly


@pytest.mark.parametrize("method", refine.FOREGROUND_METHODS)
def test_a_flat_image_is_its_own_foreground(method):
    flat = np.full((40, 40, 3), 77, np.uint8)
    out = refine.estimate_foreground(flat, random_pixels(3, 40, 40), method)
    assert np.abs(out[..., :3].astype(int) - 77).max() <= 1


def test_multilevel_takes_the_image_where_no_soft_alpha_reaches():
    image = random_pixels(4, 64, 96, 3)
    alpha = np.zeros((64, 96), np.uint8)
    alpha[:, 48:] = 255  # a hard edge: nothing is soft, nothing is swept
    assert np.array_equal(refine.estimate_foreground(image, alpha)[..., :3], image)


@pytest.mark.parametrize("method", refine.FOREGROUND_METHODS)
@pytest.mark.parametrize("background", [(0, 255, 0), (255, 0, 255), "texture"])
def test_edge_colour_error_drops_by_more_than_half(background, method):
    foreground = data.chelsea()[:256, :256].astype(float)
    alpha = soft_disk(256, 256)
    bg = data.hubble_deep_field()[:256, :256, :3].astype(float) if background == "texture" else np.array(background, float)
    image = composite(foreground, alpha, bg)
    before = band_error(image, foreground, alpha)
    after = band_error(refine.estimate_foreground(image, alpha, method), foreground, alpha)
    assert after <= before / 2, (before, after)


def test_alpha_matting_recovers_edges_from_a_degraded_mask():
    foreground = data.coffee()[:300, :300].astype(float)
    truth = soft_disk(300, 300, softness=2.0)
    image = composite(foreground, truth, np.array([20, 220, 40], float))
    blurry = refine.gaussian_blur(truth, 6.0)
    matted = refine.alpha_matting(image, blurry).alpha
    error = lambda alpha: np.abs(alpha.astype(float) - truth).mean()  # noqa: E731
    assert error(matted) < 0.75 * error(blurry), (error(blurry), error(matted))
    sure_foreground, sure_background = refine.trimap(blurry)
    assert (matted[sure_foreground] == 255).all() and (matted[sure_background] == 0).all()


@pytest.mark.parametrize("erode_size", [0, 1, 4, 10])
def test_trimap_is_the_eroded_thresholded_mask(erode_size):
    from scipy import ndimage

    alpha = refine.gaussian_blur(random_pixels(9, 90, 70), 3.0)
    sure_foreground, sure_background = refine.trimap(alpha, 140, 110, erode_size)
    square = np.ones((2 * (erode_size // 2) + 1,) * 2, bool)
    assert np.array_equal(sure_foreground, ndimage.binary_erosion(alpha > 140, square, border_value=1))
    assert np.array_equal(sure_background, ndimage.binary_erosion(alpha < 110, square, border_value=1))


def test_unknown_foreground_method_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="method"):
        refine.estimate_foreground(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8), "magic")


def test_trimap_follows_rembg_thresholds_and_erosion():
    alpha = np.zeros((40, 40), np.uint8)
    alpha[10:30, 10:30] = 255
    sure_foreground, sure_background = refine.trimap(alpha, 240, 10, erode_size=4)
    assert sure_foreground.sum() == 16 * 16 and not sure_foreground[10:12].any()
    assert not sure_background[8:32, 8:32].any() and sure_background[:8].all()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda k: k.estimate_foreground(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5), np.uint8)), "height and width"),
        (lambda k: k.estimate_foreground(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8)), "channel"),
        (lambda k: k.estimate_foreground(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8), 91), "large_radius"),
        (lambda k: k.estimate_foreground(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.float32)), "uint8"),
        (lambda k: k.estimate_foreground_ml(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8), 0), "big_iterations"),
        (lambda k: k.estimate_foreground_ml(np.zeros((4, 4, 3), np.uint8), np.zeros((3, 4), np.uint8)), "height and width"),
        (lambda k: k.guided_filter(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8), 3, 0.0), "eps"),
        (lambda k: k.guided_filter(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8), -1, 1.0), "radius"),
        (lambda k: k.guided_filter(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), 3, 1.0), "channel"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, message):
    for isa in _native.available_isas:
        with pytest.raises(InvalidInputError, match=message):
            call(_native.kernel_set(isa))


def test_remove_refine_foreground_removes_the_halo(session):
    foreground = data.astronaut()[:200, :200]
    photo = composite(foreground.astype(float), cleancut.remove(foreground, session=session, only_mask=True),
                      np.array([0, 255, 0], float))
    plain = cleancut.remove(photo, session=session)
    clean = cleancut.remove(photo, session=session, refine_foreground=True)
    assert np.array_equal(plain[..., 3], clean[..., 3])  # the alpha is untouched
    band = (clean[..., 3] > 0) & (clean[..., 3] < 255)
    green_excess = lambda rgba: (rgba[..., 1].astype(int) - rgba[..., [0, 2]].mean(axis=-1))[band].mean()  # noqa: E731
    assert green_excess(clean) < green_excess(plain) - 10
    # Every return type and the background paths.
    png = cleancut.remove(_png(photo), session=session, refine_foreground=True)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), clean)
    assert cleancut.remove(Image.fromarray(photo), session=session, refine_foreground=True).mode == "RGBA"
    over = cleancut.remove(photo, session=session, refine_foreground=True, bgcolor=(255, 255, 255, 255))
    assert (over[..., 3] == 255).all()
    premultiplied = cleancut.remove(photo, session=session, refine_foreground=True, premultiplied=True)
    assert (premultiplied[..., :3] <= np.maximum(clean[..., :3], 1)).all()


def _png(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def test_remove_with_alpha_matting(session):
    photo = data.chelsea()
    plain = cleancut.remove(photo, session=session)
    matted = cleancut.remove(photo, session=session, alpha_matting=True, alpha_matting_erode_size=6)
    assert matted.shape == plain.shape and matted.dtype == np.uint8
    sure_foreground, sure_background = refine.trimap(plain[..., 3], 240, 10, 6)
    assert (matted[..., 3][sure_foreground] == 255).all() and (matted[..., 3][sure_background] == 0).all()
    assert not np.array_equal(matted[..., 3], plain[..., 3])  # the uncertain band was re-estimated
    rgba_input = np.dstack([photo, np.full(photo.shape[:2], 128, np.uint8)])
    assert cleancut.remove(rgba_input, session=session, alpha_matting=True)[..., 3].max() <= 128
    batch = cleancut.remove_batch([photo], session=session, alpha_matting=True, alpha_matting_erode_size=6)
    assert np.array_equal(batch[0], matted)


@pytest.mark.parametrize("keywords", [{"alpha_matting_foreground_threshold": 300}, {"alpha_matting_erode_size": -1}])
def test_remove_rejects_bad_matting_keywords(session, keywords):
    with pytest.raises(InvalidInputError, match="alpha_matting_"):
        cleancut.remove(data.chelsea(), session=session, alpha_matting=True, **keywords)
