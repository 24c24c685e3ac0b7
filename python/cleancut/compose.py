"""Compose stage: colour + alpha -> RGBA cut-out, optionally over a background colour (native kernel)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from . import _native
from .errors import InvalidInputError


def parse_bgcolor(bgcolor: Sequence[int] | None) -> tuple[int, int, int, int] | None:
    """rembg's bgcolor: (r, g, b, a) in 0..255; (r, g, b) means opaque."""
    if bgcolor is None:
        return None
    # Integers only: int() would have taken 1.5 as 1, and the string "1234" as (1, 2, 3, 4).
    values = tuple(bgcolor) if isinstance(bgcolor, (Sequence, np.ndarray)) and not isinstance(bgcolor, (str, bytes)) else ()
    if len(values) not in (3, 4) or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and 0 <= v <= 255 for v in values):
        raise InvalidInputError(f"bgcolor must be 3 or 4 integers in 0..255, got {bgcolor!r}")
    return tuple(int(v) for v in values) + (255,) * (4 - len(values))  # type: ignore[return-value]


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
