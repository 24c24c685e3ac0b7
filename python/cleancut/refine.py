"""Refine stage: saliency -> alpha at full size, then optional morphology and edge smoothing, and
the edge's colours (foreground estimation, alpha matting).

Masks are uint8 HxW, images uint8 HxWx3|4; the pixel work runs in the native kernels.
The soft alpha is never binarised except by ``rembg_post_process``, which reproduces rembg's
``post_process_mask=True`` for drop-in parity.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _native
from .errors import InvalidInputError


MAX_RADIUS = _native.max_radius  # of erode, dilate and the Gaussian (4 sigma)
MAX_SIGMA = MAX_RADIUS // 4


def upsample_mask(saliency: np.ndarray, height: int, width: int) -> np.ndarray:
    """float32 saliency map -> min-max normalised, Lanczos-3 resampled uint8 alpha of HxW."""
    return _native.active.upsample_mask(saliency, height, width)


def erode(mask: np.ndarray, radius: int, shape: str = "disk") -> np.ndarray:
    return _native.active.morphology(mask, "erode", shape, radius)


def dilate(mask: np.ndarray, radius: int, shape: str = "disk") -> np.ndarray:
    return _native.active.morphology(mask, "dilate", shape, radius)


def opening(mask: np.ndarray, radius: int, shape: str = "disk") -> np.ndarray:
    """Erode then dilate: removes specks smaller than the element, keeps soft values soft."""
    return dilate(erode(mask, radius, shape), radius, shape)


def closing(mask: np.ndarray, radius: int, shape: str = "disk") -> np.ndarray:
    """Dilate then erode: fills holes smaller than the element."""
    return erode(dilate(mask, radius, shape), radius, shape)


def gaussian_blur(mask: np.ndarray, sigma: float, radius: int | None = None) -> np.ndarray:
    """Separable Gaussian, reflect borders; radius defaults to round(4 sigma) like scipy."""
    return _native.active.gaussian_blur(mask, sigma, -1 if radius is None else radius)


def edge_band(mask: np.ndarray) -> np.ndarray:
    """Pixels on an edge: soft (0 < alpha < 255) or next to a pixel of another value."""
    return (dilate(mask, 1, "square") != erode(mask, 1, "square")) | ((mask > 0) & (mask < 255))


def edge_blur(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-smooth only the edge band, so solid interior and clear background stay exact."""
    return np.where(edge_band(mask), gaussian_blur(mask, sigma), mask)


def rembg_post_process(mask: np.ndarray) -> np.ndarray:
    """rembg's post_process: opening with a radius-1 disk, Gaussian sigma 2, threshold at 127 (binary)."""
    smoothed = gaussian_blur(opening(mask, 1), 2.0)
    return np.where(smoothed >= 127, np.uint8(255), np.uint8(0))


def soften(mask: np.ndarray, erode_radius: int = 0, dilate_radius: int = 0, edge_blur_sigma: float = 0.0) -> np.ndarray:
    """The soft refinement: erode (trims the halo), dilate (restores the body), blur the edge band."""
    if erode_radius:
        mask = erode(mask, erode_radius)
    if dilate_radius:
        mask = dilate(mask, dilate_radius)
    if edge_blur_sigma:
        mask = edge_blur(mask, edge_blur_sigma)
    return mask


FOREGROUND_METHODS = ("multilevel", "blur_fusion")


def estimate_foreground(
    pixels: np.ndarray,
    alpha: np.ndarray,
    method: str = "multilevel",
    large_radius: int = 90,
    small_radius: int | None = None,
    iterations: int = 2,
) -> np.ndarray:
    """HxWx4 RGBA whose colours are the subject's own where the alpha is soft: the old background's
    share of each edge pixel is taken out, so a cut-out has no coloured fringe. The alpha channel
    is ``alpha``.

    ``multilevel`` (default; Germer et al., pymatting's estimate_foreground_ml): coarse-to-fine
    least squares, ``iterations`` sweeps per large level, swept only near soft alpha.
    ``blur_fusion`` (Forte & Pitié): two box-filter passes whose cost does not depend on the radii;
    the second window defaults to their 6 px at ~2000 px, scaled with the image. On
    benchmarks/quality.py the two cost about the same and multilevel is ~5% more accurate
    (benchmarks/QUALITY.md), so it is the default.
    """
    if method == "multilevel":
        return _native.active.estimate_foreground_ml(pixels, alpha, iterations)
    if method != "blur_fusion":
        raise InvalidInputError(f"method must be one of {', '.join(FOREGROUND_METHODS)}, got {method!r}")
    if small_radius is None:
        small_radius = max(1, min(90, round(max(alpha.shape) / 340)))
    return _native.active.estimate_foreground(pixels, alpha, large_radius, small_radius)


def trimap(alpha: np.ndarray, foreground_threshold: int = 240, background_threshold: int = 10, erode_size: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """rembg's trimap: (sure foreground, sure background) boolean masks — alpha above / below the
    thresholds, each eroded by an ``erode_size``-wide square so the uncertain band around the edge
    widens."""
    radius, alpha = erode_size // 2, np.ascontiguousarray(alpha)
    if not radius:
        return alpha > foreground_threshold, alpha < background_threshold
    # Eroding a thresholded mask = thresholding the windowed minimum (maximum for "below").
    return erode(alpha, radius, "square") > foreground_threshold, dilate(alpha, radius, "square") < background_threshold


def matting_radius(height: int, width: int) -> int:
    """Guided-filter window radius for an image: about 1/100 of its long side, at least 2."""
    return max(2, min(90, round(max(height, width) / 100)))


# Colour distance |F - B| (0..255 units) from which the colour projection is trusted fully; below
# it the estimate leans on the mask (a subject and background of similar colour say little).
CONFIDENT_DISTANCE = 150.0


class Matte(NamedTuple):
    alpha: np.ndarray  # HxW uint8
    foreground: np.ndarray  # HxWx3 uint8: the subject's colours, estimated in the uncertain band, the photo's elsewhere


def alpha_matting(
    pixels: np.ndarray,
    alpha: np.ndarray,
    foreground_threshold: int = 240,
    background_threshold: int = 10,
    erode_size: int = 10,
    radius: int | None = None,
    eps: float = 1e-4,
) -> Matte:
    """Alpha matting at full resolution. A trimap from the mask (rembg's thresholds); in the
    uncertain band the local foreground and background colours F and B are estimated from the
    surroundings (Blur-Fusion), the alpha is the projection of the pixel onto the F-B line,
    a = (I-B).(F-B) / |F-B|^2, blended with the mask where F and B are alike, then smoothed by a
    colour guided filter (edge-aware) and the sure regions restored. The same F are the edge
    colours. ``eps`` is the guided filter's regulariser in (0..1 intensity)^2 units."""
    sure_foreground, sure_background = trimap(alpha, foreground_threshold, background_threshold, erode_size)
    start = alpha.copy()
    start[sure_foreground], start[sure_background] = 255, 0
    unknown = np.flatnonzero(~(sure_foreground | sure_background))  # the band, as flat pixel indices
    fg_rgba, bg_rgba = _native.active.estimate_foreground(pixels, start, 90, 6, with_background=True)
    band = lambda image: image.reshape(-1, image.shape[-1])[unknown, :3]  # noqa: E731
    colour, foreground, background = band(pixels).astype(np.float32), band(fg_rgba), band(bg_rgba).astype(np.float32)
    direction = foreground.astype(np.float32) - background
    distance2 = (direction * direction).sum(axis=-1)
    projected = np.clip(((colour - background) * direction).sum(axis=-1) / (distance2 + 1.0), 0.0, 1.0) * 255.0
    trust = np.clip(distance2 / CONFIDENT_DISTANCE**2, 0.0, 1.0)
    estimate = start.copy()
    estimate.reshape(-1)[unknown] = np.clip(trust * projected + (1.0 - trust) * alpha.reshape(-1)[unknown] + 0.5, 0, 255).astype(np.uint8)
    radius = matting_radius(*alpha.shape) if radius is None else radius
    matte = _native.active.guided_filter(pixels, estimate, radius, eps * 255.0 * 255.0)
    matte[sure_foreground], matte[sure_background] = 255, 0
    colours = np.array(pixels[..., :3])
    colours.reshape(-1, 3)[unknown] = foreground
    return Matte(matte, colours)
