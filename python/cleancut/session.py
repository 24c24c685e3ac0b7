"""Infer stage: a U²-Net ONNX model behind a small session class (ONNX Runtime, CPU for now)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import models
from .errors import ModelError
from .prepare import IMAGENET_MEAN, IMAGENET_STD, prepare


def _cpu_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Session:
    """One loaded model. ``predict`` maps images to saliency maps; thread-safe, GIL-free while running."""

    def __init__(
        self,
        model_path: os.PathLike | str,
        name: str | None = None,
        *,
        threads: int | None = None,
        providers: Sequence[str] | None = None,
        mean: tuple[float, float, float] = IMAGENET_MEAN,
        std: tuple[float, float, float] = IMAGENET_STD,
    ) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _cpu_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Finer work blocks took 2-4 ms off a ~122 ms u2netp inference on 2 threads. (Not
        # session.set_denormal_as_zero: it flips the calling thread's FTZ/DAZ for the whole process.)
        options.add_session_config_entry("session.dynamic_block_base", "4")
        try:
            graph = models.with_dynamic_batch(Path(model_path))
            self._session = ort.InferenceSession(
                os.fspath(graph), sess_options=options, providers=list(providers or ["CPUExecutionProvider"])
            )
        except Exception as e:  # onnx and ORT raise their own exception types for unreadable graphs
            raise ModelError(f"cannot load model {os.fspath(model_path)!r}: {e}") from e
        self.name = name or os.path.splitext(os.path.basename(os.fspath(model_path)))[0]
        self.model_path = os.fspath(model_path)
        self.mean, self.std = mean, std
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        # Only d0 is used; asking for it alone lets ORT skip the other heads' final ops.
        self._output_names = [self._session.get_outputs()[0].name]
        shape = model_input.shape
        if len(shape) != 4 or shape[1] != 3:
            raise ModelError(f"model {self.name!r} takes input of shape {shape}, not (N, 3, H, W)")
        self.input_size = tuple(d if isinstance(d, int) else 320 for d in shape[2:])
        self._fixed_batch = shape[0] if isinstance(shape[0], int) else None

    @property
    def providers(self) -> list[str]:
        return self._session.get_providers()

    def new_input(self, batch: int) -> np.ndarray:
        return np.empty((batch, 3, *self.input_size), dtype=np.float32)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """float32 (N, 3, H, W) network input -> float32 (N, H, W) saliency (the d0 output)."""
        if self._fixed_batch is not None and len(batch) != self._fixed_batch:
            return np.concatenate([self.infer(batch[i : i + 1]) for i in range(len(batch))])
        return self._session.run(self._output_names, {self._input_name: batch})[0][:, 0]

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
    providers: Sequence[str] | None = None,
    threads: int | None = None,
) -> Session:
    """A session for a model name (``"u2netp"``), a path to an ``.onnx`` file, or a name + url + md5."""
    name, path = models.resolve(model_name, url=url, md5=md5)
    return Session(path, name, threads=threads, providers=providers)


def default_session() -> Session:
    """The shared u2netp session, loaded on first use."""
    with _default_lock:
        if models.DEFAULT_MODEL not in _default_sessions:
            _default_sessions[models.DEFAULT_MODEL] = new_session(models.DEFAULT_MODEL)
        return _default_sessions[models.DEFAULT_MODEL]
