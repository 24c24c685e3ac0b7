"""Infer stage: a U²-Net ONNX model behind a small session class (ONNX Runtime, CPU for now)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import backends, models
from .errors import ModelError
from .prepare import IMAGENET_MEAN, IMAGENET_STD, prepare


def _cpu_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Session:
    """One loaded model. ``predict`` maps images to saliency maps; thread-safe, GIL-free while running.

    ``backend``: "auto" (the fastest here, measured once and cached), or a name from
    ``cleancut.backends.NAMES``; ``CLEANCUT_BACKEND`` sets the default.
    """

    def __init__(
        self,
        model_path: os.PathLike | str,
        name: str | None = None,
        *,
        backend: str | None = None,
        threads: int | None = None,
        mean: tuple[float, float, float] = IMAGENET_MEAN,
        std: tuple[float, float, float] = IMAGENET_STD,
    ) -> None:
        self.name = name or os.path.splitext(os.path.basename(os.fspath(model_path)))[0]
        self.model_path = os.fspath(model_path)
        self.mean, self.std = mean, std
        threads = threads or _cpu_threads()
        try:
            graph = models.with_dynamic_batch(Path(model_path))
        except Exception as e:  # onnx raises its own exception types for unreadable files
            raise ModelError(f"cannot load model {self.model_path!r}: {e}") from e
        wanted = backend or os.environ.get("CLEANCUT_BACKEND") or backends.AUTO
        try:
            if wanted == backends.AUTO:  # the prepared graph's name carries the model's md5
                wanted = backends.choose(graph, graph.stem, threads, (320, 320), models.cache_dir() / "backends.json")
            self._backend = backends.load(wanted, graph, threads)
        except backends.BackendUnavailable as e:
            if backend or os.environ.get("CLEANCUT_BACKEND"):
                raise  # a backend the user named must not be swapped for another
            raise ModelError(f"cannot load model {self.model_path!r}: {e}") from e
        shape = self._backend.input_shape
        if len(shape) != 4 or shape[1] != 3:
            raise ModelError(f"model {self.name!r} takes input of shape {shape}, not (N, 3, H, W)")
        self.input_size = tuple(d if isinstance(d, int) else 320 for d in shape[2:])
        self._fixed_batch = shape[0] if isinstance(shape[0], int) else None

    @property
    def backend(self) -> str:
        return self._backend.name

    def new_input(self, batch: int) -> np.ndarray:
        return np.empty((batch, 3, *self.input_size), dtype=np.float32)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """float32 (N, 3, H, W) network input -> float32 (N, H, W) saliency (the d0 output)."""
        if self._fixed_batch is not None and len(batch) != self._fixed_batch:
            return np.concatenate([self.infer(batch[i : i + 1]) for i in range(len(batch))])
        return self._backend.infer(batch)

    def predict(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """uint8 HxWx3|4 images -> float32 (N, H, W) saliency maps at the network's resolution."""
        batch = self.new_input(len(images))
        for slot, pixels in enumerate(images):
            prepare(pixels, batch, slot, self.mean, self.std)
        return self.infer(batch)


_default_sessions: dict[str, Session] = {}
_default_lock = threading.Lock()


def new_session(
    model_name: str | os.PathLike = models.DEFAULT_MODEL,
    *,
    url: str | None = None,
    md5: str | None = None,
    backend: str | None = None,
    threads: int | None = None,
) -> Session:
    """A session for a model name (``"u2netp"``), a path to an ``.onnx`` file, or a name + url + md5."""
    name, path = models.resolve(model_name, url=url, md5=md5)
    return Session(path, name, backend=backend, threads=threads)


def default_session() -> Session:
    """The shared u2netp session, loaded on first use."""
    with _default_lock:
        if models.DEFAULT_MODEL not in _default_sessions:
            _default_sessions[models.DEFAULT_MODEL] = new_session(models.DEFAULT_MODEL)
        return _default_sessions[models.DEFAULT_MODEL]
