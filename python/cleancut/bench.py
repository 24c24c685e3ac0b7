"""``cleancut bench``: time bytes -> PNG cuts on this machine, beside rembg when it is installed,
on the same inputs in the same process."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Timing:
    size: int
    cleancut_ms: float
    batch_ms: float  # per image, remove_batch over as many images as the session has lanes, twice
    rembg_ms: float | None

    @property
    def ratio(self) -> float | None:
        return None if self.rembg_ms is None else self.rembg_ms / self.cleancut_ms


def sample_jpeg(size: int) -> bytes:
    """A photo-like test image (a lit sphere on a gradient), so the mask has a subject and edges."""
    y, x = np.mgrid[0:size, 0:size] / size
    sphere = np.clip(1 - ((x - 0.5) ** 2 + (y - 0.55) ** 2) / 0.09, 0, 1)
    rgb = np.stack([0.2 + 0.6 * x, 0.3 + 0.4 * y, 0.8 - 0.5 * x], axis=-1) * (1 - sphere[..., None])
    rgb += sphere[..., None] * np.array([0.9, 0.5, 0.2]) * (0.6 + 0.4 * (1 - y))[..., None]
    buffer = io.BytesIO()
    Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def rembg_remover(model: str) -> Callable[[bytes], bytes] | None:
    """rembg's remove with its own session, or None when rembg is not installed. rembg is pointed at
    cleancut's verified copy of the model, so it downloads nothing."""
    try:
        import rembg
    except ImportError:
        return None
    from .models import cache_dir, default_model_path

    if model == "u2netp":
        default_model_path()
        os.environ.setdefault("U2NET_HOME", str(cache_dir()))
    session = rembg.new_session(model)
    return lambda data: rembg.remove(data, session=session)


def run(sizes: list[int], rounds: int, session, model: str, with_rembg: bool = True) -> list[Timing]:
    from .api import remove, remove_batch
    from .backends import median_ms

    theirs = rembg_remover(model) if with_rembg else None
    timings = []
    for size in sizes:
        data = sample_jpeg(size)
        ours = median_ms(lambda: remove(data, session=session), rounds)
        batch = [data] * (2 * session.threads)
        batch_ms = median_ms(lambda: remove_batch(batch, session), rounds) / len(batch)
        rembg_ms = median_ms(lambda: theirs(data), rounds) if theirs else None
        timings.append(Timing(size, ours, batch_ms, rembg_ms))
    return timings
