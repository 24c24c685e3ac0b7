"""Prepare stage: image -> the network's normalised float input, written in place (native kernel)."""

from __future__ import annotations

import numpy as np

from . import _native

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def prepare(
    pixels: np.ndarray,
    out: np.ndarray,
    slot: int = 0,
    mean: tuple[float, float, float] = IMAGENET_MEAN,
    std: tuple[float, float, float] = IMAGENET_STD,
) -> np.ndarray:
    """Lanczos-3 resample uint8 HxWx3|4 into ``out[slot]`` (float32 N x 3 x H x W), as rembg normalises."""
    _native.active.prepare(pixels, out, slot, mean, std)
    return out
