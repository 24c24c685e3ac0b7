"""Inference backends: same mask as ONNX Runtime fp32, measured choice, its cache, loud failures."""

import copy
import json
import logging
import platform
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from cleancut import backends, models, refine
from cleancut.session import Session
from conftest import BatchSizes, photos

PHOTOS = photos()


@pytest.fixture(scope="module")
def graph(model_path):
    return models.prepared_graph(model_path)


def available(graph):
    names = []
    for name in backends.NAMES:
        try:
            backends.load(name, graph, 2)
            names.append(name)
        except backends.BackendUnavailable:
            pass
    return names


@pytest.mark.parametrize("name", ["openvino-cpu"])
def test_backend_masks_match_onnxruntime_fp32(graph, model_path, name):
    if name not in available(graph):
        pytest.skip(f"{name} is not installed")
    reference, other = Session(model_path, backend="onnxruntime-cpu"), Session(model_path, backend=name)
    assert other.backend == name
    for photo in PHOTOS.values():
        masks = [refine.upsample_mask(s.predict([photo])[0], *photo.shape[:2]).astype(np.int16) for s in (reference, other)]
        assert np.abs(masks[0] - masks[1]).mean() <= 1.0


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="ONNX Runtime blocks channels on x86 only")
def test_onnxruntime_keeps_the_prepared_graph_in_its_blocked_layout(graph, model_path, tmp_path):
    """With half_pixel upsampling ONNX Runtime no longer reorders out of its blocked channel layout
    and back around every upsampling; the map stays the same up to float rounding."""
    import onnx
    import onnxruntime as ort

    from cleancut.prepare import prepare

    def optimised(path):
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.optimized_model_filepath = str(tmp_path / f"{path.stem}-optimised.onnx")
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        reorders = sum(n.op_type.startswith("Reorder") for n in onnx.load(options.optimized_model_filepath).graph.node)
        return session, reorders

    (exported, exported_reorders), (prepared, prepared_reorders) = optimised(model_path), optimised(graph)
    assert exported_reorders > 50 and prepared_reorders <= 15
    batch = np.zeros((len(PHOTOS), 3, 320, 320), np.float32)
    for slot, photo in enumerate(PHOTOS.values()):
        prepare(photo, batch[slot : slot + 1])
    def saliency(session, to_map):
        return np.concatenate([to_map(session.run(None, {session.get_inputs()[0].name: batch[i : i + 1]})) for i in range(len(batch))])

    maps = [saliency(exported, lambda outputs: outputs[0][:, 0]), saliency(prepared, backends.SaliencyMaps(graph))]
    # Float rounding only: the blocked kernels sum in another order through ~100 layers.
    assert np.abs(maps[0] - maps[1]).max() <= 1e-4


def test_choice_is_measured_once_and_cached(graph, tmp_path, monkeypatch):
    cache = tmp_path / "backends.json"
    calls = []
    real_measure = backends.measure
    monkeypatch.setattr(backends, "measure", lambda *a: calls.append(a) or real_measure(*a))
    first = backends.choose(graph, "md5-a", 2, (320, 320), cache)
    assert first[0] in available(graph) and len(calls) == 1
    table = next(iter(json.loads(cache.read_text()).values()))["table"]
    fastest = min((t for t in table if t["median_ms"] is not None), key=lambda t: t["median_ms"])
    assert (fastest["backend"], fastest["threads"]) == first
    assert backends.choose(graph, "md5-a", 2, (320, 320), cache) == first and len(calls) == 1

    backends.choose(graph, "md5-b", 2, (320, 320), cache)  # another model
    assert len(calls) == 2
    monkeypatch.setattr(backends, "_versions", lambda: {"onnxruntime": "0.0-other"})  # a library upgrade
    backends.choose(graph, "md5-a", 2, (320, 320), cache)
    assert len(calls) == 3


class _TimedBackend:
    def __init__(self, name, threads):
        self.name, self.threads, self.input_shape = name, threads, ["batch", 3, 320, 320]


def test_cpu_backends_are_timed_on_fewer_threads_while_that_is_faster(graph, tmp_path, monkeypatch):
    """8 threads: every backend on 8 first (bf16, a reduced-precision variant, before the others).
    ONNX Runtime then gets faster down to 4 and slower at 2 (not timed on 1); OpenVINO is clearly
    slower on 4 (one run tells); bf16, over twice as slow as the fastest on 8, is not timed on
    fewer. The choice, ONNX Runtime on 4 threads, is cached."""
    per_image = {("openvino-cpu-bf16", 8): 150.0, ("onnxruntime-cpu", 8): 100.0, ("openvino-cpu", 8): 70.0,
                 ("onnxruntime-cpu", 4): 60.0, ("onnxruntime-cpu", 2): 70.0, ("openvino-cpu", 4): 100.0}
    names = ["onnxruntime-cpu", "openvino-cpu", "openvino-cpu-bf16"]
    runs = []
    monkeypatch.setattr(backends, "load", lambda name, graph, threads, size: _TimedBackend(name, threads))

    def per_image_ms(backend, threads, batch, rounds=backends.TIMED_RUNS):
        runs.append((backend.name, backend.threads, rounds))
        return per_image[backend.name, backend.threads]

    monkeypatch.setattr(backends, "per_image_ms", per_image_ms)
    table = backends.measure(graph, 8, (320, 320), names)
    assert [(t.backend, t.threads) for t in table] == list(per_image)
    full = backends.TIMED_RUNS
    assert runs == [("openvino-cpu-bf16", 8, full), ("onnxruntime-cpu", 8, 1), ("onnxruntime-cpu", 8, full), ("openvino-cpu", 8, 1),
                    ("openvino-cpu", 8, full),
                    ("onnxruntime-cpu", 4, 1), ("onnxruntime-cpu", 4, full), ("onnxruntime-cpu", 2, 1), ("onnxruntime-cpu", 2, full),
                    ("openvino-cpu", 4, 1)]
    monkeypatch.setattr(backends, "candidates", lambda qualified: names)
    cache = tmp_path / "backends.json"
    assert backends.choose(graph, "md5-t", 8, (320, 320), cache) == ("onnxruntime-cpu", 4)
    monkeypatch.setattr(backends, "measure", lambda *args: pytest.fail("measured again"))
    assert backends.choose(graph, "md5-t", 8, (320, 320), cache) == ("onnxruntime-cpu", 4)


def test_backends_clearly_slower_than_the_fastest_so_far_are_judged_on_one_run(graph, monkeypatch):
    """The reduced-precision variants are timed first, the most reduced first; then a backend whose
    first run is CLEARLY_SLOWER than the fastest so far is not timed further (the first session here
    took 2.3-3.0 s instead of 3.4-3.7). One that is not clearly slower is timed in full."""
    per_image = {"openvino-cpu-int8": 40.0, "openvino-cpu-bf16": 60.0, "onnxruntime-cpu": 100.0, "openvino-cpu": 45.0}
    runs = []
    monkeypatch.setattr(backends, "load", lambda name, graph, threads, size: _TimedBackend(name, threads))

    def per_image_ms(backend, threads, batch, rounds=backends.TIMED_RUNS):
        runs.append((backend.name, rounds))
        return per_image[backend.name]

    monkeypatch.setattr(backends, "per_image_ms", per_image_ms)
    table = backends.measure(graph, 1, (320, 320), ["onnxruntime-cpu", "openvino-cpu", "openvino-cpu-bf16", "openvino-cpu-int8"])
    full = backends.TIMED_RUNS
    assert runs == [("openvino-cpu-int8", full), ("openvino-cpu-bf16", 1), ("onnxruntime-cpu", 1), ("openvino-cpu", 1), ("openvino-cpu", full)]
    assert {t.backend: (t.median_ms, t.note) for t in table} == {
        "openvino-cpu-int8": (40.0, ""), "openvino-cpu-bf16": (60.0, "one run: clearly slower"),
        "onnxruntime-cpu": (100.0, "one run: clearly slower"), "openvino-cpu": (45.0, "")}


def test_a_cached_choice_without_threads_is_measured_again(graph, tmp_path, monkeypatch):
    """Choices cached before thread counts were timed hold no threads: they are made again."""
    cache = tmp_path / "backends.json"
    cache.write_text(json.dumps({backends.machine_key("md5-o", threads=2, qualified=[]): {"choice": "onnxruntime-cpu"}}))
    monkeypatch.setattr(backends, "measure", lambda *args: [backends.Timing("openvino-cpu", 5.0, threads=1)])
    assert backends.choose(graph, "md5-o", 2, (320, 320), cache) == ("openvino-cpu", 1)


def test_a_session_runs_its_network_on_the_threads_chosen(model_path, monkeypatch):
    """Auto-selection's threads go to the session's network and cap its lanes' networks; the
    session itself keeps every core (for decode, prepare and encode, and to split into lanes)."""
    from cleancut.session import Session

    loaded, real_load = [], backends.load
    monkeypatch.setattr(backends, "choose", lambda *args: ("onnxruntime-cpu", 1))
    monkeypatch.setattr(backends, "load", lambda name, graph, threads, size: loaded.append(threads) or real_load(name, graph, threads, size))
    session = Session(model_path, threads=4, backend=None)
    assert session.threads == 4 and loaded == [1]
    session.lanes(2)
    assert loaded == [1, 1, 1]


def test_cpu_model_tells_generations_apart():
    """VMs name every EPYC generation "AMD EPYC": the cache key and the benchmarks' record carry
    family, model and stepping too, where /proc/cpuinfo has them."""
    from pathlib import Path

    info = Path("/proc/cpuinfo")
    if not info.is_file() or "cpu family" not in info.read_text():
        pytest.skip("no x86 /proc/cpuinfo here")
    first = info.read_text().split("\n\n")[0]
    fields = dict((k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in first.splitlines()))
    assert backends.cpu_model() == f"{fields['model name']} (family {fields['cpu family']}, model {fields['model']}, stepping {fields['stepping']})"
    assert backends.cpu_model() in backends.machine_key("md5")


def test_processes_starting_together_measure_once(graph, tmp_path, monkeypatch):
    """Sessions made at once (server workers, Ray actors; threads here, which flock separates just
    the same) do not time each other: one measures, the others wait for its choice."""
    cache = tmp_path / "backends.json"
    running, overlaps, calls = [0], [], []

    def measure(*args):
        running[0] += 1
        overlaps.append(running[0])
        time.sleep(0.3)
        calls.append(args)
        running[0] -= 1
        return [backends.Timing("onnxruntime-cpu", 1.0, "")]

    monkeypatch.setattr(backends, "measure", measure)
    threads = [threading.Thread(target=backends.choose, args=(graph, "md5-e", 2, (320, 320), cache)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and max(overlaps) == 1


class _OverlapCounter:
    """A stand-in backend that records how many of its infer calls ran at the same time."""

    def __init__(self, name):
        self.name, self.running, self.most, self._lock = name, 0, 0, threading.Lock()

    def infer(self, batch):
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)
        with self._lock:
            self.running -= 1
        return batch


@pytest.mark.parametrize("name, callers", [("onnxruntime-cpu", 1), ("openvino-cpu-int8", 1), ("onnxruntime-cuda-tf32", 4)])
def test_backends_are_timed_as_cleancut_runs_them(name, callers):
    """A CPU backend runs one image at a time on all its threads (remove()); a GPU backend is timed
    with one caller per thread at once, the way remove_batch's lanes share it."""
    backend = _OverlapCounter(name)
    assert backends.per_image_ms(backend, 4, np.zeros((1, 3, 8, 8), np.float32)) > 0
    assert backend.most == callers


def test_corrupt_cache_is_ignored_with_a_warning(graph, tmp_path):
    cache = tmp_path / "backends.json"
    cache.write_text("{not json")
    with pytest.warns(RuntimeWarning, match="ignoring the unreadable backend cache"):
        choice, threads = backends.choose(graph, "md5-c", 2, (320, 320), cache)
    assert choice in backends.NAMES and threads in (1, 2) and json.loads(cache.read_text())


def test_a_cache_that_cannot_be_written_still_gives_a_choice(graph, tmp_path, monkeypatch):
    """A read-only cache folder (a shared or baked-in one): the choice holds, with a warning."""
    def refuse(path, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(backends, "write_atomically", refuse)
    with pytest.warns(RuntimeWarning, match="cannot save the backend choice.*Permission denied"):
        assert backends.choose(graph, "md5-d", 2, (320, 320), tmp_path / "backends.json")[0] in backends.NAMES


def test_rembg_providers_and_sess_opts(graph, model_path):
    """new_session(providers=[...]) as rembg users write it: the first provider that loads wins,
    each one skipped is a warning (never a silent fallback), and a list of none we run is an error."""
    import onnxruntime as ort

    from cleancut import new_session

    assert new_session(model_path, providers=["CPUExecutionProvider"]).backend == "onnxruntime-cpu"
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    assert new_session(model_path, providers=[("CPUExecutionProvider", {})], sess_opts=options).threads == 1
    here = available(graph)
    if "openvino-cpu" in here:
        assert new_session(model_path, providers=["OpenVINOExecutionProvider", "CPUExecutionProvider"]).backend == "openvino-cpu"
    if "onnxruntime-cuda" not in here:
        with pytest.warns(RuntimeWarning, match="onnxruntime-cuda.*trying the next provider"):
            assert new_session(model_path, providers=["CUDAExecutionProvider", "CPUExecutionProvider"]).backend == "onnxruntime-cpu"
        with pytest.raises(backends.BackendUnavailable, match="CUDAExecutionProvider"):
            new_session(model_path, providers=["CUDAExecutionProvider"])
    with pytest.raises(backends.BackendUnavailable, match="none of the providers"):
        new_session(model_path, providers=["ROCMExecutionProvider"])


def test_unavailable_backends_are_skipped_with_a_logged_reason(graph, caplog):
    with caplog.at_level(logging.INFO, logger="cleancut.backends"):
        table = backends.measure(graph, 2, (320, 320))
    assert {t.backend for t in table} == set(backends.NAMES) - set(backends.REDUCED)  # fp32 unless asked
    missing = [t for t in table if t.median_ms is None]
    for timing in missing:
        assert timing.note and timing.note in caplog.text


def test_asking_for_a_gpu_that_cannot_run_is_loud(model_path, monkeypatch):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has a working CUDA provider")
    with pytest.raises(backends.BackendUnavailable, match="no CUDAExecutionProvider"):
        Session(model_path, backend="onnxruntime-cuda")
    monkeypatch.setenv("CLEANCUT_BACKEND", "onnxruntime-tensorrt")
    with pytest.raises(backends.BackendUnavailable, match="TensorrtExecutionProvider"):
        Session(model_path)


@pytest.mark.filterwarnings("ignore:Specified provider")
def test_a_gpu_provider_that_falls_back_to_cpu_is_refused(graph, monkeypatch):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has a working CUDA provider")
    # ORT lists providers whose libraries then fail to load, and quietly runs on the CPU.
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(backends.BackendUnavailable, match="fell back to the CPU|cannot run this model"):
        backends.load("onnxruntime-cuda", graph, 2)


@pytest.mark.filterwarnings("ignore:Specified provider")
@pytest.mark.parametrize("name", ["onnxruntime-cuda", "onnxruntime-cuda-tf32"])
def test_cuda_is_strict_fp32_unless_tf32_is_asked_for(graph, monkeypatch, name):
    import onnxruntime as ort

    # ORT's CUDA provider runs fp32 convolutions as TF32 by default, which moves the mask.
    asked = []
    real_session = ort.InferenceSession

    def recording_session(*args, providers, **kwargs):
        asked.append(providers[0])
        return real_session(*args, providers=["CPUExecutionProvider"], **kwargs)

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(ort, "InferenceSession", recording_session)
    with pytest.raises(backends.BackendUnavailable, match="fell back to the CPU"):
        backends.load(name, graph, 2)
    provider, options = asked[0]
    assert provider == "CUDAExecutionProvider"
    assert options["use_tf32"] == ("1" if name.endswith("tf32") else "0")
    assert backends.FP32_OF.get(name, name) == "onnxruntime-cuda"


@pytest.mark.filterwarnings("ignore:Specified provider")
def test_an_onnxruntime_gpu_backend_keeps_a_session_per_batch_size(graph, monkeypatch):
    """ONNX Runtime's CUDA convolutions build cuDNN's plans again at every change of input shape
    (0.5-1.8 s at each change of batch size, H200): each size runs on a session of its own, up to
    GPU_SESSIONS, and later sizes share the last one. Every session gives the same maps."""
    import onnxruntime as ort

    made = []
    real_session = ort.InferenceSession

    class OnGpu:
        """A CPU session that reports the CUDA provider and records the batch sizes it ran."""

        def __init__(self, *args, providers, **kwargs):
            self._session, self.sizes = real_session(*args, providers=["CPUExecutionProvider"], **kwargs), []
            made.append(self)

        def get_providers(self):
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]

        def __getattr__(self, name):
            return getattr(self._session, name)

        def run(self, outputs, feeds):
            self.sizes.append(len(next(iter(feeds.values()))))
            return self._session.run(outputs, feeds)

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(ort, "InferenceSession", OnGpu)
    backend = backends.load("onnxruntime-cuda", graph, 2)
    assert len(made) == 1, "one session at load, so a provider that cannot start fails there"
    one = np.random.default_rng(3).standard_normal((1, 3, 320, 320)).astype(np.float32)
    expected = backend.infer(one)[0]
    for size in (4, 1, 4, 2, 3, 5, 1, 2):
        maps = backend.infer(np.repeat(one, size, axis=0))
        assert maps.shape == (size, 320, 320) and np.abs(maps - expected).max() <= 1e-5
    assert backends.GPU_SESSIONS == len(made) == 4
    assert [session.sizes for session in made] == [[1, 1, 1], [4, 4], [2, 2], [3, 5]]


def test_sessions_per_batch_size_are_made_once_by_threads_asking_together():
    made = []

    def make():
        time.sleep(0.05)  # a session loads slowly: the others ask meanwhile
        made.append(object())
        return made[-1]

    sessions = backends.PerBatchSize(make, 3)
    with ThreadPoolExecutor(8) as callers:
        got = list(callers.map(sessions.get, [1] * 8 + [16] * 8))
    assert len(made) == 2 and got == [made[0]] * 8 + [made[1]] * 8
    assert sessions.get(1) is sessions.first is made[0]


def test_a_session_per_batch_size_that_cannot_load_is_shared_with_a_warning(caplog):
    made = []

    def make():
        if len(made) == 2:
            raise RuntimeError("out of GPU memory")
        made.append(object())
        return made[-1]

    sessions = backends.PerBatchSize(make, 4)
    with caplog.at_level(logging.WARNING, logger="cleancut.backends"):
        assert [sessions.get(size) for size in (1, 8, 16, 32, 1)] == [made[0], made[1], made[1], made[1], made[0]]
    assert len(made) == 2 and "batch size 16 (out of GPU memory); it shares one with size 8" in caplog.text
    assert caplog.text.count("cannot load") == 1, "not tried again for every new size"


@pytest.mark.filterwarnings("ignore:Specified provider")
def test_tensorrt_keeps_its_engines_and_falls_back_to_cuda(graph, monkeypatch, tmp_path):
    """TensorRT builds an engine per session (minutes for big models): cached under the cleancut
    cache for the next process; the nodes it cannot take run on strict-fp32 CUDA, not the CPU.
    (No TensorRT here: the providers asked for are recorded.)"""
    import onnxruntime as ort

    asked = []
    real_session = ort.InferenceSession

    def recording_session(*args, providers, **kwargs):
        asked.append(providers)
        return real_session(*args, providers=["CPUExecutionProvider"], **kwargs)

    monkeypatch.setenv("CLEANCUT_HOME", str(tmp_path))
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["TensorrtExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(ort, "InferenceSession", recording_session)
    with pytest.raises(backends.BackendUnavailable, match="fell back to the CPU"):
        backends.load("onnxruntime-tensorrt", graph, 2)
    (tensorrt, options), (cuda, cuda_options), cpu = asked[0]
    assert (tensorrt, cuda, cpu) == ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
    assert options["trt_engine_cache_enable"] == "1" and options["trt_engine_cache_path"] == str(tmp_path / "tensorrt")
    assert cuda_options["use_tf32"] == "0"


def test_onnxruntime_cpu_holds_one_copy_of_the_activations(graph):
    # u2netp at batch 4: ~0.86 GB of activations; ORT's memory pattern used to add a second copy.
    script = f"""
import resource, numpy as np
from pathlib import Path
from cleancut import backends
backend = backends.load("onnxruntime-cpu", Path({str(graph)!r}), 2)
batch = np.zeros((4, 3, 320, 320), np.float32)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for _ in range(3):
    backend.infer(batch)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) < 1300  # MB of growth; 1681 with the memory pattern, 857 without


def test_unknown_backend_name(model_path):
    with pytest.raises(backends.BackendUnavailable, match="unknown backend"):
        Session(model_path, backend="tpu")


@pytest.mark.parametrize("name", ["onnxruntime-cpu", "openvino-cpu"])
def test_cpu_backends_take_a_batch_one_image_at_a_time(model_path, name):
    """The same maps as one predict() per image, the runtime only ever given batch 1: on CPUs a
    batch costs the same per image, but the runtimes keep memory for the largest batch they ran."""
    session = Session(model_path, backend=name)
    images = [PHOTOS[photo][:rows] for photo, rows in zip(["astronaut", "chelsea", "coffee", "rocket"], (301, 187, 64, 512))]
    one_by_one = np.concatenate([session.predict([image]) for image in images])
    session._backend = BatchSizes(name, session._backend)
    assert np.array_equal(session.predict(images), one_by_one)
    assert session._backend.sizes == [1] * len(images)


def test_gpu_backends_take_a_batch_whole(session):
    """A GPU network's throughput grows with the batch (H100: 2.5-5.6x batch 1), so it gets all of it."""
    gpu = copy.copy(session)
    gpu._backend = BatchSizes("onnxruntime-cuda")
    assert gpu.predict([PHOTOS["coffee"]] * 5).shape == (5, 320, 320)
    assert gpu._backend.sizes == [5]


def test_gpu_backends_run_a_short_batch_padded_to_the_shape_asked_for(model_path):
    """ONNX Runtime CUDA spent 0.5-1.8 s at every change of batch size (H200): ``pad_to`` keeps a
    GPU network at one shape, zeros after the given images, whose maps are unchanged. CPU
    networks take images one at a time and ignore it."""
    cpu = Session(model_path, backend="onnxruntime-cpu")
    images = [PHOTOS["coffee"], PHOTOS["chelsea"], PHOTOS["rocket"]]
    expected = cpu.predict(images)
    gpu = copy.copy(cpu)
    gpu._backend = BatchSizes("onnxruntime-cuda", cpu._backend)
    maps = gpu.predict(images, pad_to=8)
    assert gpu._backend.sizes == [8] and maps.shape == (3, 320, 320)
    assert np.abs(maps - expected).max() <= 1e-5
    assert gpu.predict(images, pad_to=2).shape == (3, 320, 320) and gpu._backend.sizes[1:] == [3], "never cut short"
    cpu._backend = BatchSizes("onnxruntime-cpu", cpu._backend)
    assert np.array_equal(cpu.predict(images, pad_to=8), expected) and cpu._backend.sizes == [1, 1, 1]


def test_an_unusable_openvino_cache_is_left_out_with_a_warning(tmp_path, monkeypatch, model_path):
    """OpenVINO removes a cached blob it cannot load and fails where it cannot remove it: another
    user's cache (its blobs are 0440) or read-only storage stopped every session. Emulated as root
    with a damaged blob made immutable."""
    monkeypatch.setenv("CLEANCUT_HOME", str(tmp_path))
    shutil.copy(model_path, tmp_path / model_path.name)
    graph = models.prepared_graph(tmp_path / model_path.name)
    backends.load("openvino-cpu", graph, 2)  # fills the cache
    blobs = sorted((tmp_path / "openvino").glob("*.blob"))
    assert blobs
    for blob in blobs:
        blob.chmod(0o644)
        blob.write_bytes(blob.read_bytes()[:1000])
    try:
        if subprocess.run(["chattr", "+i", *blobs], capture_output=True).returncode != 0:
            pytest.skip("this file system cannot make files immutable")
        with pytest.warns(RuntimeWarning, match=r"OpenVINO's compiled-model cache .* is unusable \(.*cannot remove.*\): compiling without it"):
            backend = backends.load("openvino-cpu", graph, 2)
        assert backend.infer(np.zeros((1, 3, 320, 320), np.float32)).shape == (1, 320, 320)
    finally:
        subprocess.run(["chattr", "-i", *blobs], capture_output=True)
