"""Infer-stage backends behind one interface, and the choice between them *by measurement*.

ONNX Runtime (CPU, and CUDA / TensorRT where onnxruntime-gpu provides them) and OpenVINO's own
runtime (the optional ``openvino`` package). On first use every available backend runs the model
a few times; the fastest is remembered per machine (CPU model, library versions, model hash,
threads) in the cache folder. ``backend=`` / ``CLEANCUT_BACKEND`` pick one by name instead, and a
named backend that cannot run raises BackendUnavailable instead of quietly falling back.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _native, models
from .errors import CleancutError, ModelError
from .files import locked, read_json_object, write_atomically

log = logging.getLogger(__name__)

AUTO = "auto"
ORT_PROVIDERS = {
    "onnxruntime-cpu": "CPUExecutionProvider",
    "onnxruntime-cuda": "CUDAExecutionProvider",
    "onnxruntime-tensorrt": "TensorrtExecutionProvider",
    "onnxruntime-cuda-tf32": "CUDAExecutionProvider",
    "onnxruntime-cuda-fp16": "CUDAExecutionProvider",
}
# ORT's CUDA provider runs fp32 convolutions as TF32 unless told not to: on an H100 that moved
# u2netp's full-size masks by up to 1.6/255, so plain onnxruntime-cuda is strict fp32 and TF32 is a
# reduced-precision variant. NHWC lets cuDNN use tensor cores, which only TF32 and fp16 have: with
# it, H100 batch 64 ran 830 instead of 753 images/s in TF32, but 394 instead of 488 in strict fp32.
# Arena growth by what is asked, not the next power of two: batch 64 asks for GBs.
_CUDA_COMMON = {"arena_extend_strategy": "kSameAsRequested"}
CUDA_OPTIONS = {
    "onnxruntime-cuda": {**_CUDA_COMMON, "use_tf32": "0"},
    "onnxruntime-cuda-tf32": {**_CUDA_COMMON, "use_tf32": "1", "prefer_nhwc": "1"},
    "onnxruntime-cuda-fp16": {**_CUDA_COMMON, "prefer_nhwc": "1"},
}
# Reduced-precision variants: measured against fp32 by `cleancut quantize` (precision.py), and
# only then candidates for auto-selection, where their masks stayed within the error bound.
FP32_OF = {"openvino-cpu-bf16": "openvino-cpu", "openvino-cpu-int8": "openvino-cpu",
           "onnxruntime-cuda-tf32": "onnxruntime-cuda", "onnxruntime-cuda-fp16": "onnxruntime-cuda"}
REDUCED = list(FP32_OF)
NAMES = [*[n for n in ORT_PROVIDERS if n not in REDUCED], "openvino-cpu", *REDUCED]
# rembg's providers= names (ONNX Runtime execution providers) -> ours; OpenVINO runs on its own runtime.
PROVIDER_BACKENDS = {"TensorrtExecutionProvider": "onnxruntime-tensorrt", "CUDAExecutionProvider": "onnxruntime-cuda",
                     "OpenVINOExecutionProvider": "openvino-cpu", "CPUExecutionProvider": "onnxruntime-cpu"}
TIMED_RUNS = 5
# Thread counts below all: a backend this much slower than the fastest on all threads is not timed
# on fewer. A count whose first run is CLEARLY_SLOWER than the backend's best, or a backend whose
# first run is that much slower than the fastest so far, is not timed further. The first session
# here (2 cores, 4 backends) took 6.8 s timing every count of every backend fully, 4.3-4.4 s with
# the one-run check on counts, 3.5-3.8 s with CONTENDER too, 2.3-3.0 s with the check on backends
# as well (2.7-2.9 s timing all threads only, every backend in full); fp32 is more than twice as
# slow as INT8 here.
CONTENDER = 2.0
CLEARLY_SLOWER = 1.25
# ONNX Runtime's CUDA convolutions keep cuDNN's plans for the last input shape only and build them
# again at every change of shape: 0.5-1.8 s at each change of batch size (H200, session 16). One
# ORT session per batch size sees one shape each (and keeps a memory arena of its own); sizes past
# this many share the last one made.
GPU_SESSIONS = 4


class BackendUnavailable(CleancutError):
    """A backend that was asked for cannot run here; the message says why."""


class SaliencyMaps:
    """A prepared graph's outputs -> float32 (N, H, W) saliency maps (new arrays): its first output,
    or, where prepared_graph left U²-Net's fusion head to the native core, the side maps fused."""

    def __init__(self, graph: Path) -> None:
        self._head = models.fusion_head(graph)
        self.outputs = len(self._head["weights"]) if self._head else 1  # how many of the graph's outputs it reads

    def __call__(self, results) -> np.ndarray:
        """``results``: the graph's outputs, indexed by position (a list, or OpenVINO's results)."""
        if self._head is None:
            return np.array(results[0][:, 0])
        outputs = [results[i] for i in range(self.outputs)]
        sizes = {(round(o.shape[2] * sy), round(o.shape[3] * sx)) for o, (sy, sx) in zip(outputs, self._head["scales"])}
        if len(sizes) != 1:
            raise ModelError(f"the model's side maps do not upsample to one size: {sorted(sizes)}")
        (height, width), kernels, head = sizes.pop(), _native.active, self._head
        return np.stack([kernels.fuse_side_maps([o[n] if taps == 9 else o[n, 0] for o, taps in zip(outputs, head["taps"])],
                                                head["weights"], head["bias"], height, width, head["biases"])
                         for n in range(len(outputs[0]))])


class OrtBackend:
    def __init__(self, name: str, graph: Path, threads: int, open_size: tuple[int, int] = (320, 320)) -> None:
        import onnxruntime as ort

        provider = ORT_PROVIDERS[name]
        if provider != "CPUExecutionProvider" and hasattr(ort, "preload_dlls"):
            # Loads CUDA/cuDNN from the nvidia-* wheels (onnxruntime-gpu[cuda,cudnn]) when the
            # system has none on its library path; a no-op where they are already loaded.
            ort.preload_dlls()
        if provider not in ort.get_available_providers():
            raise BackendUnavailable(f"{name}: this onnxruntime has no {provider} (install onnxruntime-gpu for CUDA/TensorRT)")
        if provider != "CPUExecutionProvider":
            graph = models.gpu_graph(graph)
        self._saliency = SaliencyMaps(graph)
        if name == "onnxruntime-cuda-fp16":
            from .precision import fp16_model_path

            graph = fp16_model_path(graph)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Finer work blocks took 2-4 ms off a ~122 ms u2netp inference on 2 threads. (Not
        # session.set_denormal_as_zero: it flips the calling thread's FTZ/DAZ for the whole process.)
        options.add_session_config_entry("session.dynamic_block_base", "4")
        # ORT's pool threads kept spinning after a run returned, taking a core from what comes next:
        # remove() of a 2048² JPEG spent 21.6 instead of 11.7 ms on its PNG bands, 137-148 instead
        # of 130-135 ms in all. They still spin during a run (allow_spinning=0 slowed the run).
        options.add_session_config_entry("session.force_spinning_stop", "1")
        if provider == "CPUExecutionProvider":
            # ORT's memory pattern plans one block per input shape on the second run, beside the
            # arena the first run filled: twice the memory (u2netp batch 1: 440 vs 214 MB, batch 8:
            # 3.6 vs 1.9 GB) and, at batch 8, a second run of page faults (2 lanes: 455 vs 106
            # ms/image). No measurable speed change at batch 1.
            options.enable_mem_pattern = False
            providers = [provider]
        elif name == "onnxruntime-tensorrt":
            # TensorRT builds an engine per session and shape; kept on disk, later processes load it.
            # What TensorRT cannot take runs on CUDA (strict fp32), not on the CPU.
            engines = str(models.cache_dir() / "tensorrt")
            providers = [(provider, {"trt_engine_cache_enable": "1", "trt_engine_cache_path": engines,
                                     "trt_timing_cache_enable": "1", "trt_timing_cache_path": engines}),
                         ("CUDAExecutionProvider", CUDA_OPTIONS["onnxruntime-cuda"]), "CPUExecutionProvider"]
        else:
            providers = [(provider, CUDA_OPTIONS.get(name, {})), "CPUExecutionProvider"]
        self._sessions = PerBatchSize(lambda: ort.InferenceSession(os.fspath(graph), sess_options=options, providers=providers),
                                      1 if provider == "CPUExecutionProvider" else GPU_SESSIONS)
        first = self._sessions.first
        if first.get_providers()[0] != provider:
            # ORT lists GPU providers whose CUDA/cuDNN libraries then fail to load, and runs on the CPU.
            raise BackendUnavailable(f"{name} was asked for, but onnxruntime could not start {provider} and fell back to "
                                     "the CPU (see onnxruntime's log for the library that failed to load)")
        self.name = name
        model_input = first.get_inputs()[0]
        self.input_name, self.input_shape = model_input.name, model_input.shape
        # Only the outputs the map needs: ORT can skip U²-Net's other heads.
        self._outputs = [o.name for o in first.get_outputs()][: self._saliency.outputs]

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return self._saliency(self._sessions.get(len(batch)).run(self._outputs, {self.input_name: batch}))


class PerBatchSize:
    """Up to ``limit`` runtime sessions from ``make``, one per batch size in the order the sizes
    come; every size past them shares the last one made. ``first`` is made now, so a model or
    provider that cannot load fails at once; it runs the first size asked for."""

    def __init__(self, make: Callable[[], object], limit: int) -> None:
        self._make, self._limit = make, limit
        self._made = [make()]
        self._by_size: dict[int, object] = {}
        self._lock = threading.Lock()

    @property
    def first(self):
        return self._made[0]

    def get(self, size: int):
        with self._lock:  # held while a new session loads: once per size
            if size not in self._by_size:
                if self._by_size and len(self._made) < self._limit:
                    try:
                        self._made.append(self._make())
                    except Exception as e:  # no GPU memory left for another, say: the sizes share the last one
                        self._limit = len(self._made)
                        log.warning("cannot load another session for batch size %d (%s); it shares one with size %s",
                                    size, e, ", ".join(str(s) for s, made in self._by_size.items() if made is self._made[-1]))
                self._by_size[size] = self._made[-1]
            return self._by_size[size]


def cpu_has_bf16(core) -> bool:
    """Whether this CPU does bf16 arithmetic, as OpenVINO's ``core`` sees it."""
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


class OpenVinoBackend:
    """OpenVINO on the CPU: fp32 (``openvino-cpu``), or a network `cleancut quantize` made: bf16
    with fp32 islands (``openvino-cpu-bf16``) or INT8 (``openvino-cpu-int8``)."""

    def __init__(self, name: str, graph: Path, threads: int, open_size: tuple[int, int] = (320, 320)) -> None:
        try:
            import openvino as ov
        except ImportError:
            raise BackendUnavailable(f"{name}: the openvino package is not installed (pip install 'cleancut[openvino]')") from None
        from . import precision
        from .models import cache_dir

        self._core = ov.Core()
        # Compiled networks are cached on disk: a cold `cleancut i` then skips most of compile_model.
        self._core.set_property({"CACHE_DIR": str(cache_dir() / "openvino")})
        if name == "openvino-cpu-bf16" and not cpu_has_bf16(self._core):
            raise BackendUnavailable(f"{name}: this CPU has no bf16 arithmetic")
        self._saliency = SaliencyMaps(graph)
        if name in precision.NETWORKS:
            graph = precision.network(name, graph)
        self._model = self._core.read_model(os.fspath(graph))
        # Without the explicit f32 hint OpenVINO silently runs bf16 on CPUs that have it, which
        # moves the mask by several levels; bf16 only where asked for by name. The INT8 network's
        # other layers run as the bf16 one's where the CPU has bf16 (it was chosen that way).
        reduced = name != "openvino-cpu" and cpu_has_bf16(self._core)
        self._config = {"INFERENCE_PRECISION_HINT": "bf16" if reduced else "f32", "INFERENCE_NUM_THREADS": threads,
                        "PERFORMANCE_HINT": "LATENCY"}
        if threads < usable_cpus():
            # OpenVINO pins a model's threads from the first core on: two 1-thread models (lanes,
            # Session.lanes) shared one core of two, 85 ms per u2netp image instead of 44.
            self._config["ENABLE_CPU_PINNING"] = False
        self.name = name
        self.input_name = self._model.inputs[0].get_any_name()
        self.input_shape = [d.get_length() if d.is_static else None for d in self._model.inputs[0].get_partial_shape()]
        self._size = network_size(self.input_shape, open_size)
        self._requests: dict[int, object] = {}
        self._lock = threading.Lock()  # an infer request is not safe to share between threads
        # Compile now, so a model OpenVINO cannot run fails here. The first NumPy view of an OpenVINO
        # tensor sets up pybind11's NumPy bridge in OpenVINO's module: two remove_batch lanes doing
        # that at once (their first runs) hung for good, once in ~20 fresh processes. Done here, on
        # the thread that makes the backend.
        _ = self._request(1).get_input_tensor(0).data

    def _request(self, batch: int):
        """One compiled model per batch size: a static shape let OpenVINO plan memory better
        (u2netp, batch 1: 252 instead of 294 MiB peak, and no slower)."""
        if batch not in self._requests:
            model = self._model.clone()
            model.reshape({self.input_name: [batch, 3, *self._size]})
            self._requests[batch] = self._compile(model).create_infer_request()
        return self._requests[batch]

    def _compile(self, model):
        """compile_model, without OpenVINO's compiled-model cache where that cache is unusable:
        OpenVINO removes a cached blob it cannot load, and fails where it cannot remove it. Its
        blobs are 0440, so a cache made by another user, or a damaged blob on read-only storage,
        stopped every session."""
        try:
            return self._core.compile_model(model, "CPU", self._config)
        except RuntimeError as e:
            cache = self._core.get_property("CACHE_DIR")
            if not cache:
                raise
            self._core.set_property({"CACHE_DIR": ""})
            compiled = self._core.compile_model(model, "CPU", self._config)  # a model it cannot compile fails again here
            reason = str(e).strip().splitlines()[-1]
            warnings.warn(f"OpenVINO's compiled-model cache {cache} is unusable ({reason}): compiling without it", RuntimeWarning, stacklevel=2)
            return compiled

    def infer(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            return self._saliency(self._request(len(batch)).infer({0: batch}))


def network_size(input_shape: Sequence, open_size: tuple[int, int]) -> tuple[int, int]:
    """The (height, width) a network with ``input_shape`` (N, C, H, W; open dimensions as names or
    None) runs: its own where fixed, ``open_size`` where open."""
    return tuple(d if isinstance(d, int) else default for d, default in zip(input_shape[2:], open_size))  # type: ignore[return-value]


def runs_on_cpu(name: str) -> bool:
    return name == "onnxruntime-cpu" or name.startswith("openvino-cpu")


def load(name: str, graph: Path, threads: int, open_size: tuple[int, int] = (320, 320)):
    """Backend ``name`` on ``graph``; ``open_size``: the image size it runs where the graph leaves it open."""
    if name not in NAMES:
        raise BackendUnavailable(f"unknown backend {name!r}; choose from {', '.join(NAMES)} or 'auto'")
    try:
        return (OpenVinoBackend if name.startswith("openvino-") else OrtBackend)(name, graph, threads, open_size)
    except BackendUnavailable:
        raise
    except Exception as e:  # the runtimes raise their own types for graphs they cannot compile
        raise BackendUnavailable(f"{name} cannot run this model: {e}") from e


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_model() -> str:
    """The CPU's model name with its family, model and stepping (benchmarks record it; backend
    choices and precision verdicts are cached per CPU). Virtual machines often name every
    generation alike ("AMD EPYC"); the numbers tell a Zen 3 from a Zen 5."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
            if not line:  # the first processor's block is enough
                break
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields:
        name += f" (family {fields['cpu family']}, model {fields.get('model', '?')}, stepping {fields.get('stepping', '?')})"
    return name


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for package in ("cleancut", "onnxruntime", "onnxruntime-gpu", "openvino"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return found


@dataclass
class Timing:
    backend: str
    median_ms: float | None
    note: str = ""
    threads: int | None = None  # the threads it ran on (None: the count asked for)


def median_ms(call: Callable[[], object], rounds: int = TIMED_RUNS) -> float:
    """Median wall time of ``call`` in ms, after one untimed warm-up run (first runs allocate and
    compile kernels)."""
    call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def per_image_ms(backend, threads: int, batch: np.ndarray, rounds: int = TIMED_RUNS) -> float:
    """The median ms per image of ``batch`` (one image) as cleancut runs ``backend``: a CPU backend
    alone on its threads, as remove() runs it; a GPU backend called by ``threads`` threads at once,
    as remove_batch's lanes share it. One GPU call at a time is launch-bound, so its variants tie
    (H100: strict fp32 and TF32 both ~5 ms) and auto-selection picked strict fp32, whose shared
    throughput is far lower (remove_batch of 1024² JPEGs: 206 vs 357-372 images/s)."""
    if runs_on_cpu(backend.name):
        return median_ms(lambda: backend.infer(batch), rounds)
    with ThreadPoolExecutor(threads, thread_name_prefix="cleancut-measure") as callers:
        return median_ms(lambda: list(callers.map(lambda _: backend.infer(batch), range(threads))), rounds) / threads


def thread_settings(threads: int) -> list[int]:
    """The thread counts a CPU backend is timed on: all of ``threads``, then half as many, down to one."""
    return [threads >> shift for shift in range(threads.bit_length())]


def measure(graph: Path, threads: int, open_size: tuple[int, int], names: list[str] | None = None) -> list[Timing]:
    """Time each backend (default: the fp32 ones) per image (per_image_ms) on an image of the size
    the network takes (``open_size`` where the graph leaves it open); unavailable ones are listed
    with the reason. Every backend is timed on ``threads``, the reduced-precision variants first
    (the most reduced first: usually the fastest), and one CLEARLY_SLOWER than the fastest so far
    on its first run is judged on that run. A CPU backend less than CONTENDER times as slow as the
    fastest is then timed on half as many threads while that is faster: one inference need not
    gain from every core of a large machine."""

    def timed(name: str, count: int, best: float | None = None) -> Timing:
        backend = load(name, graph, count, open_size)
        batch = np.random.default_rng(0).standard_normal((1, 3, *network_size(backend.input_shape, open_size))).astype(np.float32)
        # One run tells a clearly slower backend or thread count (2 cores: fp32 2.2-2.5x INT8; one
        # thread 1.66-1.82x two).
        ms = per_image_ms(backend, count, batch, rounds=1) if best is not None else None
        if ms is None or ms < CLEARLY_SLOWER * best:
            return Timing(name, per_image_ms(backend, count, batch), threads=count)
        return Timing(name, ms, "one run: clearly slower", threads=count)

    table: list[Timing] = []
    names = names or candidates()

    def fastest() -> float | None:
        return min((t.median_ms for t in table if t.median_ms is not None), default=None)

    for name in [*reversed([n for n in REDUCED if n in names]), *[n for n in names if n not in REDUCED]]:
        try:
            table.append(timed(name, threads, fastest()))
        except BackendUnavailable as e:
            log.info("backend skipped: %s", e)
            table.append(Timing(name, None, str(e)))
    on_all_threads = fastest()
    for first in [t for t in table if t.median_ms is not None and runs_on_cpu(t.backend) and t.median_ms < CONTENDER * on_all_threads]:
        best = first.median_ms
        for count in thread_settings(threads)[1:]:
            table.append(timed(first.backend, count, best))
            if table[-1].median_ms >= best:
                break
            best = table[-1].median_ms
    return table


def machine_key(model_md5: str, **extra) -> str:
    """What a measurement holds for: this CPU, this cleancut and these runtimes, this model."""
    return json.dumps({"cpu": cpu_model(), "versions": _versions(), "model": model_md5, **extra}, sort_keys=True)


def from_providers(providers: Sequence[str | tuple]) -> list[str]:
    """The backends for an ONNX Runtime ``providers`` list (names, or (name, options) pairs as ORT
    allows), in its order; a list with none cleancut runs is an error."""
    names = [PROVIDER_BACKENDS.get(p[0] if isinstance(p, tuple) else p) for p in providers]
    chosen = list(dict.fromkeys(n for n in names if n))
    if not chosen:
        raise BackendUnavailable(f"none of the providers {list(providers)!r} is one cleancut runs; it runs {', '.join(PROVIDER_BACKENDS)}")
    return chosen


def candidates(qualified: list[str] = ()) -> list[str]:
    """The backends auto-selection times: every fp32 one, and the reduced-precision variants that qualified."""
    return [n for n in NAMES if n not in REDUCED or n in qualified]


def choose(graph: Path, model_md5: str, threads: int, open_size: tuple[int, int], cache_file: Path,
           qualified: list[str] = ()) -> tuple[str, int]:
    """The fastest backend for this machine, model and thread count, and the threads (at most
    ``threads``) it runs fastest on; measured once, then cached. ``qualified``: reduced-precision
    variants whose masks `cleancut quantize` found close enough to fp32, which compete too."""
    key = machine_key(model_md5, threads=threads, qualified=sorted(qualified))
    # One measurement at a time: processes starting together (server workers, Ray actors) would
    # time each other's contention; the others wait and read the choice.
    with locked(cache_file.with_suffix(".lock")):
        return _cached_or_measured(graph, key, threads, open_size, cache_file, qualified)


def _cached_or_measured(graph: Path, key: str, threads: int, open_size: tuple[int, int], cache_file: Path,
                        qualified: list[str]) -> tuple[str, int]:
    decisions = read_json_object(cache_file, "backend cache")
    entry = decisions.get(key)
    # An entry without its threads was made before thread counts were timed: measured again.
    if isinstance(entry, dict) and entry.get("choice") in NAMES and entry.get("threads") in range(1, threads + 1):
        return entry["choice"], entry["threads"]
    table = measure(graph, threads, open_size, candidates(qualified))
    timed = [t for t in table if t.median_ms is not None]
    if not timed:
        raise BackendUnavailable("no backend can run this model: " + "; ".join(t.note for t in table))
    fastest = min(timed, key=lambda t: t.median_ms)
    choice, choice_threads = fastest.backend, fastest.threads or threads
    decisions[key] = {"choice": choice, "threads": choice_threads, "table": [t.__dict__ for t in table]}
    try:
        write_atomically(cache_file, json.dumps(decisions, indent=1).encode())
    except OSError as e:  # a read-only cache folder: the choice holds for this session, measured again next time
        warnings.warn(f"cannot save the backend choice in {cache_file} ({e.strerror or e})", RuntimeWarning, stacklevel=3)
    log.info("backend %s on %d threads chosen by measurement: %s", choice, choice_threads, table)
    return choice, choice_threads
