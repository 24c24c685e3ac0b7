"""Refine stage: saliency -> alpha at full size, then optional morphology and edge smoothing.

Every function takes and returns uint8 HxW masks; the pixel work runs in the native kernels.
The soft alpha is never binarised except by ``rembg_post_process``, which reproduces rembg's
``post_process_mask=True`` for drop-in parity.
"""

from __future__ import annotations

import numpy as np

from . import _native


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
