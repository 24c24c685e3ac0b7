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
    keep_hidden: bool = False,
) -> np.ndarray:
    """HxWx4 RGBA: straight colour with ``alpha`` (times the input's own alpha, if any) and
    (0, 0, 0, 0) where that is 0, so the removed background is gone from the file too
    (``keep_hidden=True`` keeps its colours under alpha 0, as rembg's ``putalpha=True``); or the
    cut-out over ``bgcolor``; or rembg's premultiplied colours with ``premultiplied=True``."""
    background = parse_bgcolor(bgcolor)
    if background is not None:
        return _native.active.compose(pixels, alpha, "over_color", background)
    if premultiplied:
        return _native.active.compose(pixels, alpha, "premultiplied")
    return _native.active.compose(pixels, alpha, "straight" if keep_hidden else "cutout")
