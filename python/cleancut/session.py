"""Infer stage: a U²-Net ONNX model behind a small session class, run by the backend that
measured fastest here (ONNX Runtime CPU/CUDA/TensorRT, OpenVINO, their reduced precisions: backends.py)."""

from __future__ import annotations

import copy
import logging
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import backends, models
from . import precision as reduced
from .errors import InvalidInputError, ModelError, checked_number
from .prepare import prepare

log = logging.getLogger(__name__)


class Session:
    """One loaded model. ``predict`` maps images to saliency maps; thread-safe, GIL-free while running.

    ``backend``: "auto" (the fastest here, measured once and cached), or a name from
    ``cleancut.backends.NAMES``; ``CLEANCUT_BACKEND`` sets the default. Auto-selection includes
    reduced-precision variants only where `cleancut quantize` measured their masks within
    2/255 of fp32. ``precision="fast"`` opts into the fastest variant it measured, whatever its
    error, and logs that error.
    """

    def __init__(
        self,
        model_path: os.PathLike | str,
        name: str | None = None,
        *,
        backend: str | None = None,
        threads: int | None = None,
        precision: str = "fp32",
        mean: tuple[float, float, float] | None = None,
        std: tuple[float, float, float] | None = None,
    ) -> None:
        self.name = name or os.path.splitext(os.path.basename(os.fspath(model_path)))[0]
        self.model_path = os.fspath(model_path)
        # rembg's model names carry their normalisation, size and output (models.CONVENTIONS)
        conventions = models.conventions(self.name)
        self.mean, self.std = mean or conventions.mean, std or conventions.std
        self._logits = conventions.sigmoid
        threads = backends.usable_cpus() if threads is None else checked_number("threads", threads, 1)
        try:
            graph = models.prepared_graph(Path(model_path))
        except Exception as e:  # onnx raises its own exception types for unreadable files
            raise ModelError(f"cannot load model {self.model_path!r}: {e}") from e
        if precision not in ("fp32", "fast"):
            raise ModelError(f"precision must be 'fp32' or 'fast', got {precision!r}")
        wanted = backend or os.environ.get("CLEANCUT_BACKEND") or backends.AUTO
        if precision == "fast" and not backend:
            wanted = self._fastest_measured(graph)
        # The network's threads: all of the session's, or fewer where auto-selection timed that faster
        self._network_threads = threads
        try:
            if wanted == backends.AUTO:  # the prepared graph's name carries the model's md5
                qualified = [name for name in reduced.qualified(graph) if reduced.runnable(name, graph)]
                wanted, self._network_threads = backends.choose(graph, graph.stem, threads, conventions.size,
                                                                models.cache_dir() / "backends.json", qualified)
            self._backend = backends.load(wanted, graph, self._network_threads, conventions.size)
        except backends.BackendUnavailable as e:
            if backend or os.environ.get("CLEANCUT_BACKEND"):
                raise  # a backend the user named must not be swapped for another
            raise ModelError(f"cannot load model {self.model_path!r}: {e}") from e
        shape = self._backend.input_shape
        if len(shape) != 4 or shape[1] != 3:
            raise ModelError(f"model {self.name!r} takes input of shape {shape}, not (N, 3, H, W)")
        self.input_size = backends.network_size(shape, conventions.size)
        self._graph, self._threads = graph, threads
        self._lanes: dict[int, list[Session]] = {}
        self._lanes_lock = threading.Lock()

    @staticmethod
    def _fastest_measured(graph: Path) -> str:
        verdict = reduced.fastest(graph)
        if verdict is None:
            raise ModelError("precision='fast': no measured reduced-precision backend with usable masks here (mean error "
                             f"<= {reduced.FAST_MAX_MEAN_MAE:g}/255); `cleancut quantize` measures them on this machine")
        log.warning("precision='fast': %s, %.2fx fp32 speed, mask error vs fp32 %.2f/255 mean, %.2f/255 worst on %d "
                    "held-out photos%s", verdict.backend, verdict.speedup, verdict.mae_mean, verdict.mae_max, verdict.photos,
                    "" if verdict.qualifies else f" (over the {reduced.MAX_MAE:g}/255 bound auto-selection keeps)")
        return verdict.backend

    @property
    def backend(self) -> str:
        return self._backend.name

    @property
    def threads(self) -> int:
        return self._threads

    def lanes(self, count: int) -> list[Session]:
        """Up to ``count`` sessions on this model and backend that run side by side, the CPU threads
        split between them (remove_batch): whole pipelines on one core each kept both cores busy
        through decode and encode, where one pipeline on both cores left one idle. A GPU backend
        is shared, not split. Each CPU lane holds a network of its own (u2netp: 85 MiB with
        OpenVINO INT8, 217 with ONNX Runtime), so lanes are kept by their thread count, rounded
        down to a power of two, and reused for every count: at most twice as many lanes as
        threads. (Made per count, 32 threads could hold 527.)"""
        count = max(1, min(count, self._threads))
        if count == 1 or not backends.runs_on_cpu(self.backend):
            return [self] * count
        threads = 1 << ((self._threads // count).bit_length() - 1)
        with self._lanes_lock:
            kept = self._lanes.setdefault(threads, [])
            while len(kept) < count:
                lane = copy.copy(self)
                lane._threads, lane._lanes, lane._lanes_lock = threads, {}, threading.Lock()
                lane._backend = backends.load(self.backend, self._graph, min(threads, self._network_threads), self.input_size)
                kept.append(lane)
            return kept[:count]

    def new_input(self, batch: int) -> np.ndarray:
        return np.empty((batch, 3, *self.input_size), dtype=np.float32)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """float32 (N, 3, H, W) network input -> float32 (N, H, W) saliency (the d0 output; its sigmoid
        where the model gives logits, models.Conventions).

        CPU backends take the images one at a time: there a batch costs the same time per image,
        but the runtimes keep memory for the largest batch they ran, and OpenVINO compiles a model
        per batch size (u2netp, 2 cores, batch 1/2/4/8: ONNX Runtime 109/110/110/108 ms per image,
        310 -> 1764 MiB held; OpenVINO fp32 104/105/105/101, 283 -> 2000 MiB; INT8 42-45 ms at any
        size from 1 to 16, 197 -> 3243 MiB with 0.2-1.4 s compiling each new size)."""
        if len(batch) > 1 and backends.runs_on_cpu(self.backend):
            maps = np.concatenate([self._backend.infer(batch[i : i + 1]) for i in range(len(batch))])
        else:
            maps = self._backend.infer(batch)
        return sigmoid(maps) if self._logits else maps

    def predict(self, images: Sequence[np.ndarray], threads: int | None = None, pad_to: int = 0) -> np.ndarray:
        """uint8 HxWx3|4 images -> float32 (N, H, W) saliency maps at the network's resolution.
        ``threads``: the cores preparing the network input may use (default: the session's).
        ``pad_to``: a GPU network runs at least this many images (zeros after the given ones), so
        that a short last chunk keeps the shape: each new batch size costs an ONNX Runtime GPU
        backend a session (backends.GPU_SESSIONS). CPU networks take images one at a time and ignore it."""
        if isinstance(images, np.ndarray) and images.ndim != 4 or not isinstance(images, (Sequence, np.ndarray)) \
                or not all(isinstance(pixels, np.ndarray) for pixels in images):
            raise InvalidInputError("Session.predict takes a list of uint8 HxWx3|4 arrays (cleancut.decode makes them); "
                                    "rembg's session.predict(image) is cleancut.remove(image, session=session, only_mask=True)")
        slots = len(images) if backends.runs_on_cpu(self.backend) else max(len(images), pad_to)
        batch = self.new_input(slots)
        for slot, pixels in enumerate(images):
            prepare(pixels, batch, slot, self.mean, self.std, threads=threads or self._threads)
        batch[len(images):] = 0
        return self.infer(batch)[: len(images)]


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-logits)) in place, in float32 as rembg computes it (BiRefNet's output)."""
    np.negative(logits, out=logits)
    np.exp(logits, out=logits)
    logits += 1
    return np.reciprocal(logits, out=logits)


_default_sessions: dict[str, Session] = {}
_default_lock = threading.Lock()


def new_session(
    model_name: str | os.PathLike = models.DEFAULT_MODEL,
    *,
    model_path: str | os.PathLike | None = None,
    url: str | None = None,
    md5: str | None = None,
    backend: str | None = None,
    threads: int | None = None,
    precision: str = "fp32",
    providers: Sequence[str | tuple] | None = None,
    sess_opts: Any = None,
) -> Session:
    """A session for a model name (``"u2netp"``), a path to an ``.onnx`` file, or a name + url + md5.
    rembg's model names (``"isnet-general-use"``, ``"birefnet-general"``...; a file named so) bring
    rembg's normalisation, input size and output for that model (``models.CONVENTIONS``).

    rembg's keywords work too: ``model_path`` (its custom sessions: ``new_session("u2net_custom",
    model_path=...)`` runs that file as ``model_name``), ``providers`` (ONNX Runtime's list: the
    first that loads here is used, and each one skipped before it is a warning, never a silent
    fallback) and ``sess_opts`` (its ``intra_op_num_threads``, where set, is ``threads``)."""
    models.conventions(os.fspath(model_name))  # a rembg model cleancut does not run is refused by name
    if model_path is None:
        name, path = models.resolve(model_name, url=url, md5=md5)
    elif url is not None:
        raise ModelError("give the model's file (model_path=) or its URL (url=), not both")
    else:
        name, path = os.fspath(model_name), models.resolve(model_path, md5=md5)[1]
    if threads is None and getattr(sess_opts, "intra_op_num_threads", 0) > 0:
        threads = sess_opts.intra_op_num_threads
    if backend is not None or providers is None:
        return Session(path, name, backend=backend, threads=threads, precision=precision)
    *earlier, last = backends.from_providers(providers)
    for candidate in earlier:
        try:
            return Session(path, name, backend=candidate, threads=threads, precision=precision)
        except backends.BackendUnavailable as e:
            warnings.warn(f"{e}; trying the next provider", RuntimeWarning, stacklevel=2)
    return Session(path, name, backend=last, threads=threads, precision=precision)


def default_session() -> Session:
    """The shared u2netp session, loaded on first use."""
    with _default_lock:
        if models.DEFAULT_MODEL not in _default_sessions:
            _default_sessions[models.DEFAULT_MODEL] = new_session(models.DEFAULT_MODEL)
        return _default_sessions[models.DEFAULT_MODEL]


def session_for(model: str | os.PathLike = models.DEFAULT_MODEL, precision: str = "fp32",
                model_path: str | os.PathLike | None = None) -> Session:
    """The shared default session, or a new one for another model, file (new_session) or precision."""
    if model == models.DEFAULT_MODEL and precision == "fp32" and model_path is None:
        return default_session()
    return new_session(model, model_path=model_path, precision=precision)
