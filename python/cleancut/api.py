"""``remove()``: the whole pipeline, decode -> prepare+infer -> refine -> compose -> encode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from PIL import Image

from . import compose, encode, refine
from .decode import DEFAULT_MAX_PIXELS, decode
from .session import Session, default_session

Input = bytes | bytearray | memoryview | Image.Image | np.ndarray


@dataclass(frozen=True)
class CutOptions:
    """What to make of the alpha once the network has run (everything after inference)."""

    only_mask: bool = False
    post_process_mask: bool = False
    bgcolor: tuple[int, int, int, int] | None = None
    erode_radius: int = 0
    dilate_radius: int = 0
    edge_blur: float = 0.0
    premultiplied: bool = False


def finish(pixels: np.ndarray, saliency: np.ndarray, options: CutOptions) -> np.ndarray:
    """One image and its saliency map -> RGBA cut-out (or HxW mask)."""
    alpha = refine.upsample_mask(saliency, *pixels.shape[:2])
    if options.post_process_mask:
        alpha = refine.rembg_post_process(alpha)
    alpha = refine.soften(alpha, options.erode_radius, options.dilate_radius, options.edge_blur)
    return alpha if options.only_mask else compose.cutout(pixels, alpha, options.bgcolor, options.premultiplied)


@overload
def remove(data: bytes | bytearray | memoryview, *args: Any, **kwargs: Any) -> bytes: ...
@overload
def remove(data: Image.Image, *args: Any, **kwargs: Any) -> Image.Image: ...
@overload
def remove(data: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray: ...


def remove(
    data: Input,
    alpha_matting: bool = False,
    alpha_matting_foreground_threshold: int = 240,
    alpha_matting_background_threshold: int = 10,
    alpha_matting_erode_size: int = 10,
    session: Session | None = None,
    only_mask: bool = False,
    post_process_mask: bool = False,
    bgcolor: Sequence[int] | None = None,
    force_return_bytes: bool = False,
    *,
    erode_radius: int = 0,
    dilate_radius: int = 0,
    edge_blur: float = 0.0,
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    premultiplied: bool = False,
    putalpha: bool = False,
) -> bytes | Image.Image | np.ndarray:
    """Cut the subject out of ``data``; rembg's ``remove`` signature and return types.

    bytes -> PNG bytes, PIL image -> PIL image, ndarray -> ndarray (HxWx4, or HxW with
    ``only_mask``). The alpha is U²-Net's soft saliency map. cleancut's own keywords:
    ``erode_radius``/``dilate_radius``/``edge_blur`` (soft refinement, see ``cleancut.refine``),
    ``max_side`` (downscale first so the long side is at most this), ``max_pixels`` (refuse larger
    images before decoding) and ``premultiplied`` (rembg's darkened edge colours; the default keeps
    straight colour, which is what PNG alpha means — rembg's ``putalpha=True``).
    """
    del alpha_matting_foreground_threshold, alpha_matting_background_threshold, alpha_matting_erode_size
    del putalpha  # straight colour is already the default
    if alpha_matting:
        raise NotImplementedError("alpha_matting=True is not implemented yet; the soft mask is used as alpha without it")
    options = CutOptions(
        only_mask, post_process_mask, compose.parse_bgcolor(bgcolor), erode_radius, dilate_radius, edge_blur, premultiplied
    )
    pixels = decode(data, max_pixels=max_pixels, max_side=max_side)
    saliency = (session or default_session()).predict([pixels])[0]
    result = finish(pixels, saliency, options)
    if force_return_bytes or isinstance(data, (bytes, bytearray, memoryview)):
        return encode.to_png(result)
    if isinstance(data, Image.Image):
        return encode.to_pil(result)
    return result
