"""``remove()``: the whole pipeline, decode -> prepare+infer -> refine -> compose -> encode."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from PIL import Image

from . import compose, encode, refine
from .decode import DEFAULT_MAX_PIXELS, Decoded, decode_image
from .errors import InvalidInputError, checked_number
from .pools import KeptPool
from .session import Session, default_session

Input = bytes | bytearray | memoryview | Image.Image | np.ndarray
_LANE_POOL = KeptPool("cleancut-lane")
_ITEM_POOL = KeptPool("cleancut-item")


@dataclass(frozen=True)
class AlphaMatting:
    """rembg's alpha-matting keywords: the trimap's thresholds and how far its sure regions shrink."""

    foreground_threshold: int = 240
    background_threshold: int = 10
    erode_size: int = 10

    def __post_init__(self) -> None:
        for name in ("foreground_threshold", "background_threshold"):
            checked_number(f"alpha_matting_{name}", getattr(self, name), 0, 255)
        checked_number("alpha_matting_erode_size", self.erode_size, 0, 128)


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
    refine_foreground: bool = False
    alpha_matting: AlphaMatting | None = None
    keep_hidden: bool = False  # rembg's putalpha=True: colours stay under alpha 0
    compress_level: int = encode.DEFAULT_COMPRESS_LEVEL  # PNG output only

    def __post_init__(self) -> None:
        # Checked before any decoding, with the keywords' own names (and for array results too).
        checked_number("erode_radius", self.erode_radius, 0, refine.MAX_RADIUS)
        checked_number("dilate_radius", self.dilate_radius, 0, refine.MAX_RADIUS)
        checked_number("edge_blur", self.edge_blur, 0, refine.MAX_SIGMA, integer=False)
        encode.checked_level(self.compress_level)

    @classmethod
    def from_keywords(
        cls,
        only_mask: bool = False,
        post_process_mask: bool = False,
        bgcolor: Sequence[int] | None = None,
        erode_radius: int = 0,
        dilate_radius: int = 0,
        edge_blur: float = 0.0,
        premultiplied: bool = False,
        refine_foreground: bool = False,
        alpha_matting: bool = False,
        alpha_matting_foreground_threshold: int = 240,
        alpha_matting_background_threshold: int = 10,
        alpha_matting_erode_size: int = 10,
        putalpha: bool = False,
        compress_level: int = encode.DEFAULT_COMPRESS_LEVEL,
        decontaminate: bool = False,
        vitmatte: bool = False,
        vitmatte_model: str | None = None,
    ) -> CutOptions:
        """From remove()'s keywords (rembg's names), checked. rembg's ``decontaminate`` (take the
        background's colour out of soft edges) is what ``refine_foreground`` does; its ViTMatte
        model is not available here."""
        if vitmatte:
            raise InvalidInputError("vitmatte (rembg's ViTMatte model) is not available in cleancut; "
                                    "alpha_matting=True refines the edge band with a guided filter instead")
        matting = None
        if alpha_matting:
            matting = AlphaMatting(alpha_matting_foreground_threshold, alpha_matting_background_threshold, alpha_matting_erode_size)
        return cls(only_mask, post_process_mask, compose.parse_bgcolor(bgcolor), erode_radius, dilate_radius, edge_blur,
                   premultiplied, refine_foreground or decontaminate, matting, putalpha, compress_level)


def _session(session: Session | None) -> Session:
    """The session to run, or a clear error for anything else (a rembg session included)."""
    if session is None:
        return default_session()
    if not isinstance(session, Session):
        raise InvalidInputError(f"session must be a cleancut session (cleancut.new_session(...)), got {type(session).__module__}.{type(session).__qualname__}")
    return session


def refined(pixels: np.ndarray, saliency: np.ndarray, options: CutOptions) -> tuple[np.ndarray, np.ndarray | None]:
    """The image's full-size alpha from its saliency map, refined as the options ask, and the
    subject's colours where alpha matting estimated them (else None)."""
    alpha, colours = refine.upsample_mask(saliency, *pixels.shape[:2]), None
    if options.post_process_mask:
        alpha = refine.rembg_post_process(alpha)
    if options.alpha_matting:
        matting = options.alpha_matting
        alpha, colours = refine.alpha_matting(pixels, alpha, matting.foreground_threshold, matting.background_threshold, matting.erode_size)
    return refine.soften(alpha, options.erode_radius, options.dilate_radius, options.edge_blur), colours


def _cutout(pixels: np.ndarray, alpha: np.ndarray, colours: np.ndarray | None, options: CutOptions) -> np.ndarray:
    """The RGBA cut-out (or over a colour); with edge-colour correction when asked for (alpha
    matting brings its own foreground colours, refine_foreground estimates them)."""
    if colours is None and not options.refine_foreground:
        return compose.cutout(pixels, alpha, options.bgcolor, options.premultiplied, options.keep_hidden)
    if pixels.shape[2] == 4:  # the input's own alpha multiplies the mask, as compose does
        alpha = ((alpha.astype(np.uint16) * pixels[..., 3] + 127) // 255).astype(np.uint8)
    if colours is None:
        colours = np.ascontiguousarray(refine.estimate_foreground(pixels, alpha)[..., :3])
    return compose.cutout(colours, alpha, options.bgcolor, options.premultiplied, options.keep_hidden)


def finish(pixels: np.ndarray, saliency: np.ndarray, options: CutOptions) -> np.ndarray:
    """One image and its saliency map -> RGBA cut-out (or HxW mask)."""
    alpha, colours = refined(pixels, saliency, options)
    return alpha if options.only_mask else _cutout(pixels, alpha, colours, options)


def finish_png(image: Decoded, saliency: np.ndarray, options: CutOptions, parallel: bool = True) -> bytes:
    """Like ``finish`` but straight to PNG (tagged with the image's colour profile), composing band
    by band (no full-size RGBA copy); ``parallel``: bands on every core (see ``encode.png_from_rows``)."""
    pixels, profile = image.pixels, image.icc_profile
    alpha, colours = refined(pixels, saliency, options)
    level = options.compress_level
    if options.only_mask:
        return encode.to_png(alpha, level, parallel)
    if colours is not None or options.refine_foreground:  # edge colours look across rows: one full-size pass
        return encode.to_png(_cutout(pixels, alpha, colours, options), level, parallel, profile)
    return encode.png_from_rows(
        *alpha.shape, 4,
        lambda top, bottom: compose.cutout(pixels[top:bottom], alpha[top:bottom], options.bgcolor, options.premultiplied, options.keep_hidden),
        level, parallel=parallel, icc_profile=profile,
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
    decontaminate: bool = False,
    vitmatte: bool = False,
    vitmatte_model: str | None = None,
    bgcolor: Sequence[int] | None = None,
    force_return_bytes: bool = False,
    *,
    erode_radius: int = 0,
    dilate_radius: int = 0,
    edge_blur: float = 0.0,
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    premultiplied: bool = False,
    refine_foreground: bool = False,
    putalpha: bool = False,
    compress_level: int = encode.DEFAULT_COMPRESS_LEVEL,
) -> bytes | Image.Image | np.ndarray:
    """Cut the subject out of ``data``; rembg's ``remove`` signature (2.0.86: ``decontaminate`` is
    ``refine_foreground``; ``vitmatte`` is refused) and return types.

    bytes -> PNG bytes, PIL image -> PIL image, ndarray -> ndarray (HxWx4, or HxW with
    ``only_mask``). The alpha is U²-Net's soft saliency map. A cut-out keeps the photo's RGB colour
    profile (ICC), as PNG's iCCP chunk or the PIL image's ``info["icc_profile"]``: its pixels are
    the photo's, in the photo's colour space (rembg drops it, and a Display P3 photo's cut-out then
    looks duller than the photo). ``alpha_matting=True`` re-estimates
    the edge band at full resolution from the photo (trimap from rembg's thresholds, then a guided
    filter) and corrects the edge colours. cleancut's own keywords: ``refine_foreground`` (take the
    old background's colour out of soft edge pixels: no halo),
    ``erode_radius``/``dilate_radius``/``edge_blur`` (soft refinement, see ``cleancut.refine``),
    ``max_side`` (downscale first so the long side is at most this), ``max_pixels`` (refuse larger
    images before decoding), ``premultiplied`` (rembg's darkened edge colours) and
    ``compress_level`` (PNG output, 0..9: the default 1 is fast, 3..9 smaller and slower). The default is
    straight colour, which is what PNG alpha means, and nothing where alpha is 0: the removed
    background is not kept hidden in the file; rembg's ``putalpha=True`` keeps it.
    """
    options = CutOptions.from_keywords(
        only_mask, post_process_mask, bgcolor, erode_radius, dilate_radius, edge_blur, premultiplied, refine_foreground,
        alpha_matting, alpha_matting_foreground_threshold, alpha_matting_background_threshold, alpha_matting_erode_size,
        putalpha, compress_level, decontaminate, vitmatte, vitmatte_model,
    )
    session = _session(session)
    image = decode_image(data, max_pixels=max_pixels, max_side=max_side)
    saliency = session.predict([image.pixels])[0]
    if force_return_bytes or isinstance(data, (bytes, bytearray, memoryview)):
        return finish_png(image, saliency, options)
    result = finish(image.pixels, saliency, options)
    if isinstance(data, Image.Image):
        return encode.to_pil(result, image.icc_profile)
    return result


def remove_batch(
    items: Iterable[Input],
    session: Session | None = None,
    *,
    batch_size: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
    **options: Any,
) -> list[bytes | Image.Image | np.ndarray]:
    """``remove`` over many images, same results in the same order, faster: lanes (one per core on
    CPU backends, ``Session.lanes``) decode, infer and encode their own images, so one lane's decode
    and encode overlap another's inference; on a GPU the lanes share it (H100, 16-core host, TF32,
    1024² JPEGs: 240–430 images/s, one remove() at a time ~50). ``batch_size`` images go through
    the network together: that raises a GPU network's own throughput (batch 16–64: 2.5–2.9x batch 1
    in strict fp32, 2.9–5.6x in TF32), but end to end the CPU stages set the pace (batch_size 4
    about as fast as 1, 8 and 16 slower), and a short last chunk is padded to batch_size (a GPU
    network keeps one shape, Session.predict); CPU networks take them one at a time (Session.infer).
    Takes remove()'s keywords; the first failing item raises its error (an image that cannot be
    decoded: the message starts with "item N: ")."""
    if isinstance(items, (str, bytes, bytearray, memoryview, Image.Image)):
        raise InvalidInputError(f"remove_batch takes a sequence of images, got one {type(items).__name__} (use remove() for one image)")
    if not isinstance(items, (Sequence, np.ndarray)):
        try:
            items = list(items)  # a generator or other iterable: the lanes index and slice it
        except TypeError:
            raise InvalidInputError(f"remove_batch takes a sequence of images, not {type(items).__name__}") from None
    checked_number("batch_size", batch_size, 1)
    checked_number("max_pixels", max_pixels, 1)  # up front: a bad keyword is not one item's failure
    if max_side is not None:
        checked_number("max_side", max_side, 1)
    session = _session(session)
    force_bytes = options.pop("force_return_bytes", False)
    unknown = set(options) - set(inspect.signature(CutOptions.from_keywords).parameters)
    if unknown:
        raise TypeError(f"remove_batch() got unexpected keywords: {', '.join(sorted(unknown))}")
    cut = CutOptions.from_keywords(**options)

    lanes = session.lanes(-(-len(items) // batch_size))
    # Lanes that split the cores (CPU backends) run their images one after another. Lanes that each
    # have every core (a GPU backend they share, or a single lane) spread a chunk's decode and encode
    # over the cores. H100 with 16 cores, TF32, 64 JPEGs, images/s: 1024² batch_size=16 360 spread vs
    # 167 in its lane, batch_size=4 ~407 vs ~357; 2048² 140 vs 58 and ~150 vs ~150; at batch_size=1
    # spreading only added a hand-off (1024² ~369 vs ~399), so one image stays in its lane.
    spread = batch_size > 1 and lanes[0].threads == session.threads
    each = _ITEM_POOL.get().map if spread else map
    # With several images at once the cores are busy already: PNG bands on every core only added
    # hand-offs (2048²: 68 vs 65 ms per image).
    one_at_a_time = len(lanes) == 1 and batch_size == 1

    def output(item: Input, image: Decoded, saliency: np.ndarray) -> bytes | Image.Image | np.ndarray:
        if force_bytes or isinstance(item, (bytes, bytearray, memoryview)):
            return finish_png(image, saliency, cut, parallel=one_at_a_time)
        result = finish(image.pixels, saliency, cut)
        return encode.to_pil(result, image.icc_profile) if isinstance(item, Image.Image) else result

    # One whole pipeline (decode, infer, refine, encode) per lane: while one lane decodes or
    # encodes, another infers. Chunks are taken in order; after a failure only earlier chunks
    # still run, so the first failing item is the one that raises.
    results: list[Any] = [None] * len(items)
    starts = iter(range(0, len(items), batch_size))
    failures: dict[int, BaseException] = {}
    lock = threading.Lock()

    def decoded(index: int) -> Decoded:
        try:
            return decode_image(items[index], max_pixels=max_pixels, max_side=max_side)
        except InvalidInputError as e:  # say which of the many images it is
            raise type(e)(f"item {index}: {e}") from e

    def run_lane(lane: Session) -> None:
        while True:
            with lock:
                start = next(starts, None)
                if start is None or (failures and start > min(failures)):
                    return
            chunk = items[start : start + batch_size]
            try:
                images = list(each(decoded, range(start, start + len(chunk))))
                # one lane's prepare on one core (the others use the rest); a GPU network gets whole chunks
                saliency = lane.predict([image.pixels for image in images], threads=1 if len(lanes) > 1 else None, pad_to=batch_size)
                results[start : start + len(chunk)] = list(each(output, chunk, images, saliency))
            except Exception as e:  # re-raised below, in item order
                with lock:
                    failures[start] = e

    for done in [_LANE_POOL.get().submit(run_lane, lane) for lane in lanes]:
        done.result()
    if failures:
        raise failures[min(failures)]
    return results
