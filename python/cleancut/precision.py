"""Reduced precision: `cleancut quantize` makes the bf16 network (bf16 with fp32 islands) and the
INT8 network (INT8 where it is cheap in error; both in mixed_precision.py) and measures every
reduced-precision backend (OpenVINO bf16 and INT8 on the CPU, fp16 on CUDA) against its fp32
counterpart on held-out photos: speed, and the mask's error at full size. Auto-selection considers
only variants within MAX_MAE on every held-out photo; ``precision="fast"`` takes the fastest
measured one and says what error it costs.

The verdicts are kept per machine (CPU, runtime versions) and model in the cache folder.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import backends, models, refine
from .files import intact, read_json_object, write_atomically
from .prepare import prepare

log = logging.getLogger(__name__)

MAX_MAE = 2.0  # mask error bound, in 0..255 levels, that a variant must keep on every held-out photo
# precision="fast" accepts visible error, not broken masks: a mean error at most this (0..255 levels).
FAST_MAX_MEAN_MAE = 8.0


@dataclass
class Verdict:
    backend: str
    median_ms: float | None
    fp32_ms: float
    mae_mean: float | None = None
    mae_max: float | None = None
    photos: int = 0
    note: str = ""

    @property
    def qualifies(self) -> bool:
        return self.mae_max is not None and self.mae_max <= MAX_MAE

    @property
    def speedup(self) -> float | None:
        return None if self.median_ms is None else self.fp32_ms / self.median_ms


def int8_model_path(graph: Path) -> Path:
    """Where the INT8 network made from a prepared graph lives (OpenVINO IR, next to the graph)."""
    return graph.with_name(f"{graph.stem}-int8.xml")


def bf16_model_path(graph: Path) -> Path:
    """Where the bf16-with-fp32-islands network made from a prepared graph lives (next to it)."""
    return graph.with_name(f"{graph.stem}-bf16.xml")


# The reduced-precision backends that run a network `cleancut quantize` made: (its kind, its path).
NETWORKS = {"openvino-cpu-bf16": ("bf16", bf16_model_path), "openvino-cpu-int8": ("INT8", int8_model_path)}


def network(backend: str, graph: Path) -> Path:
    """The network ``backend`` (a key of NETWORKS) runs for ``graph``; BackendUnavailable where it
    is not made yet, or was damaged since (with a warning): `cleancut quantize` makes it."""
    kind, path_of = NETWORKS[backend]
    path = path_of(graph)
    if not path.is_file():
        raise backends.BackendUnavailable(f"{backend}: no {kind} network for this model yet (run `cleancut quantize`)")
    remedy = f"run `cleancut quantize` to make it again ({backend} is not used until then)"
    if not all(intact(p, f"{kind} network", remedy) for p in (path.with_suffix(".bin"), path)):
        raise backends.BackendUnavailable(f"{backend}: its {kind} network {path} is damaged (run `cleancut quantize` to make it again)")
    return path


def make_networks(graph: Path, calibration: Sequence[np.ndarray], size: tuple[int, int], threads: int):
    """The networks for ``openvino-cpu-bf16`` (where the CPU has bf16) and ``openvino-cpu-int8``
    (mixed_precision.py), chosen on ``calibration``; returns what went into them (``Made``)."""
    try:
        import openvino as ov
    except ImportError:
        raise backends.BackendUnavailable("reduced precision needs OpenVINO: pip install 'cleancut[quantize]'") from None
    from . import mixed_precision

    bf16_target = bf16_model_path(graph) if backends.cpu_has_bf16(ov.Core()) else None
    inputs = [_network_input(p, size) for p in calibration]
    return mixed_precision.build(graph, bf16_target, int8_model_path(graph), inputs, threads)


def _verdicts_file() -> Path:
    return models.cache_dir() / "precision.json"


def _network_input(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return prepare(pixels, np.empty((1, 3, *size), np.float32))


def evaluate(graph: Path, threads: int, held_out: Sequence[np.ndarray], size: tuple[int, int]) -> list[Verdict]:
    """Speed and full-size mask error of each reduced-precision backend vs its fp32 counterpart."""
    batch = np.random.default_rng(0).standard_normal((1, 3, *size)).astype(np.float32)

    def masks(backend) -> list[np.ndarray]:
        return [refine.upsample_mask(backend.infer(_network_input(p, size))[0], *p.shape[:2]).astype(np.int16) for p in held_out]

    def speed(backend) -> float:
        return backends.per_image_ms(backend, threads, batch)

    fp32: dict[str, tuple[float, list[np.ndarray]]] = {}
    verdicts = []
    for name in backends.REDUCED:
        reference = backends.FP32_OF[name]
        try:
            if reference not in fp32:
                backend = backends.load(reference, graph, threads)
                fp32[reference] = speed(backend), masks(backend)
            backend = backends.load(name, graph, threads)
        except backends.BackendUnavailable as e:
            verdicts.append(Verdict(name, None, fp32.get(reference, (0.0,))[0], note=str(e)))
            continue
        fp32_ms, fp32_masks = fp32[reference]
        errors = [float(np.abs(mask - ref).mean()) for mask, ref in zip(masks(backend), fp32_masks)]
        verdicts.append(Verdict(name, speed(backend), fp32_ms, statistics.mean(errors), max(errors), len(errors)))
    return verdicts


def fp16_model_path(graph: Path) -> Path:
    """The graph with fp16 weights and arithmetic (float inputs and outputs), made once."""
    target = graph.with_name(f"{graph.stem}-fp16.onnx")

    def make() -> None:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16

        half = convert_float_to_float16(onnx.load(str(graph)), keep_io_types=True)
        models.cache_file(target, half.SerializeToString())

    return models.made_once(target, lambda path: intact(path, "fp16 graph", "made again"), make)


def _key(graph: Path) -> str:
    """Verdicts hold for this machine and model at any thread count: a mask's error does not
    depend on it, and auto-selection times the candidates at the session's own threads."""
    return backends.machine_key(graph.stem)


def _stored() -> dict:
    """Everything in the verdicts file ({} if there is none; {} with a warning if it is unreadable)."""
    return read_json_object(_verdicts_file(), "reduced-precision verdicts file")


def save(graph: Path, verdicts: Sequence[Verdict]) -> None:
    stored = _stored()
    stored[_key(graph)] = [asdict(v) for v in verdicts]
    write_atomically(_verdicts_file(), json.dumps(stored, indent=1).encode())


def load_verdicts(graph: Path) -> list[Verdict]:
    """What `cleancut quantize` measured for this model here ([] if nothing, or the entry is unreadable)."""
    try:
        return [Verdict(**v) for v in _stored().get(_key(graph), [])]
    except TypeError:  # an entry that is not a list of verdict records
        return []


def runnable(backend: str, graph: Path) -> bool:
    """Whether a measured variant can run: the network it runs, if `cleancut quantize` made one, is
    still there and undamaged (a warning says so where it is damaged)."""
    if backend in NETWORKS:
        try:
            network(backend, graph)
        except backends.BackendUnavailable:
            return False
    return True


def qualified(graph: Path) -> list[str]:
    """The variants whose masks stayed within MAX_MAE here."""
    return [v.backend for v in load_verdicts(graph) if v.qualifies]


def fastest(graph: Path) -> Verdict | None:
    """The fastest runnable variant whose masks are still usable (mean error <= FAST_MAX_MEAN_MAE)."""
    usable = [v for v in load_verdicts(graph)
              if v.median_ms is not None and v.mae_mean <= FAST_MAX_MEAN_MAE and runnable(v.backend, graph)]
    return min(usable, key=lambda v: v.median_ms) if usable else None


def sample_photos() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(calibration, held-out) real photos from scikit-image's sample data, when it is installed."""
    try:
        from skimage import data
    except ImportError:
        return [], []
    names = ["astronaut", "chelsea", "rocket", "coffee", "hubble_deep_field", "retina", "camera",
             "immunohistochemistry", "clock", "coins", "cell", "moon"]
    photos = []
    for name in names:
        pixels = np.asarray(getattr(data, name)())
        photos.append(np.ascontiguousarray(np.stack([pixels] * 3, axis=-1) if pixels.ndim == 2 else pixels[..., :3]))
    return photos[::2], photos[1::2]
