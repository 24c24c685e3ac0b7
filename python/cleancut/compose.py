"""Compose stage: colour + alpha -> RGBA cut-out, optionally over a background colour (native kernel)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _native
from .errors import InvalidInputError


def parse_bgcolor(bgcolor: Sequence[int] | None) -> tuple[int, int, int, int] | None:
    """rembg's bgcolor: (r, g, b, a) in 0..255; (r, g, b) means opaque."""
    if bgcolor is None:
        return None
    try:
        values = tuple(int(v) for v in bgcolor)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"bgcolor must be 3 or 4 integers in 0..255, got {bgcolor!r}") from e
    if len(values) == 3:
        values += (255,)
    if len(values) != 4 or not all(0 <= v <= 255 for v in values):
        raise InvalidInputError(f"bgcolor must be 3 or 4 integers in 0..255, got {bgcolor!r}")
    return values  # type: ignore[return-value]


def cutout(
    pixels: np.ndarray,
    alpha: np.ndarray,
    bgcolor: Sequence[int] | None = None,
    premultiplied: bool = False,
) -> np.ndarray:
    """HxWx4 RGBA: straight colour with ``alpha`` (times the input's own alpha, if any), or the
    cut-out over ``bgcolor``, or rembg's premultiplied colours with ``premultiplied=True``."""
    background = parse_bgcolor(bgcolor)
    if background is not None:
        return _native.active.compose(pixels, alpha, "over_color", background)
    return _native.active.compose(pixels, alpha, "premultiplied" if premultiplied else "straight")
