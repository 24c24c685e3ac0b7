"""``remove()``: the whole pipeline, decode -> prepare+infer -> refine -> compose -> encode."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from PIL import Image

from . import compose, encode, refine
from .decode import DEFAULT_MAX_PIXELS, decode
from .errors import InvalidInputError
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


def refined_alpha(pixels: np.ndarray, saliency: np.ndarray, options: CutOptions) -> np.ndarray:
    """The image's full-size alpha from its saliency map, refined as the options ask."""
    alpha = refine.upsample_mask(saliency, *pixels.shape[:2])
    if options.post_process_mask:
        alpha = refine.rembg_post_process(alpha)
    return refine.soften(alpha, options.erode_radius, options.dilate_radius, options.edge_blur)


def finish(pixels: np.ndarray, saliency: np.ndarray, options: CutOptions) -> np.ndarray:
    """One image and its saliency map -> RGBA cut-out (or HxW mask)."""
    alpha = refined_alpha(pixels, saliency, options)
    return alpha if options.only_mask else compose.cutout(pixels, alpha, options.bgcolor, options.premultiplied)


def finish_png(pixels: np.ndarray, saliency: np.ndarray, options: CutOptions) -> bytes:
    """Like ``finish`` but straight to PNG, composing band by band (no full-size RGBA copy)."""
    alpha = refined_alpha(pixels, saliency, options)
    if options.only_mask:
        return encode.to_png(alpha)
    return encode.png_from_rows(
        *alpha.shape, 4, lambda top, bottom: compose.cutout(pixels[top:bottom], alpha[top:bottom], options.bgcolor, options.premultiplied)
    )


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
    if force_return_bytes or isinstance(data, (bytes, bytearray, memoryview)):
        return finish_png(pixels, saliency, options)
    result = finish(pixels, saliency, options)
    if isinstance(data, Image.Image):
        return encode.to_pil(result)
    return result


def remove_batch(
    items: Sequence[Input],
    session: Session | None = None,
    *,
    batch_size: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
    **options: Any,
) -> list[bytes | Image.Image | np.ndarray]:
    """``remove`` over many images, same results in the same order, faster: while one batch is
    inferred, worker threads decode the next batch and compose/encode the previous one. Takes
    remove()'s keywords; the first failing item raises its error."""
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be at least 1, got {batch_size}")
    session = session or default_session()
    cut = CutOptions(
        options.pop("only_mask", False), options.pop("post_process_mask", False), compose.parse_bgcolor(options.pop("bgcolor", None)),
        options.pop("erode_radius", 0), options.pop("dilate_radius", 0), options.pop("edge_blur", 0.0), options.pop("premultiplied", False),
    )
    force_bytes = options.pop("force_return_bytes", False)
    if options:
        raise TypeError(f"remove_batch() got unexpected keywords: {', '.join(options)}")

    def output(item: Input, pixels: np.ndarray, saliency: np.ndarray) -> bytes | Image.Image | np.ndarray:
        if force_bytes or isinstance(item, (bytes, bytearray, memoryview)):
            return finish_png(pixels, saliency, cut)
        result = finish(pixels, saliency, cut)
        return encode.to_pil(result) if isinstance(item, Image.Image) else result

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="cleancut-batch") as pool:
        # Decoding runs at most two batches ahead, so memory stays bounded on long lists.
        decoded: list[Future] = []
        finished: list[Future] = []
        for start in range(0, len(items), batch_size):
            while len(decoded) < min(len(items), start + 2 * batch_size):
                decoded.append(pool.submit(decode, items[len(decoded)], max_pixels, max_side))
            images = [future.result() for future in decoded[start : start + batch_size]]
            saliency = session.predict(images)
            finished += [pool.submit(output, items[start + k], pixels, saliency[k]) for k, pixels in enumerate(images)]
            for k in range(start, start + len(images)):
                decoded[k] = None  # type: ignore[call-overload]  # drop the pixels once handed on
        return [future.result() for future in finished]
