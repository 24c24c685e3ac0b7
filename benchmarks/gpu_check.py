"""The checks and timings benchmarks/gpu.sh runs on a GPU machine (see there)."""

import sys
import time

import numpy as np

import cleancut
from cleancut import backends, models, refine
from cleancut.session import Session


def images_per_second(session, batch_size, seconds=0.5):
    batch = np.random.default_rng(0).standard_normal((batch_size, 3, 320, 320)).astype(np.float32)
    # A new batch shape's first runs search cuDNN's algorithms and grow ORT's memory arena; with one
    # warm-up run, batch 32 timed slower than batch 8 (H200, H100).
    for _ in range(2):
        session.infer(batch)
    runs, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or runs < 3:
        session.infer(batch)
        runs += 1
    return runs * batch_size / elapsed


def gpu_memory() -> str:
    """The GPU memory this process holds, as nvidia-smi reports it (ONNX Runtime keeps a memory
    arena per session, and GPU backends hold a session per batch size: backends.GPU_SESSIONS)."""
    import os
    import subprocess

    try:
        lines = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                               capture_output=True, text=True, timeout=20).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return "GPU memory: nvidia-smi did not answer"
    held = [line.split(",")[1].strip() for line in lines if line.split(",")[0].strip() == str(os.getpid())]
    return f"GPU memory held: {held[0] if held else '?'} MiB"


def throughput(session) -> str:
    single = images_per_second(session, 1)
    batched = {size: images_per_second(session, size) for size in (4, 8, 16, 32, 64)}
    return f"{single:.1f} img/s at batch 1, " + ", ".join(
        f"{rate:.1f} at batch {size} ({rate / single:.2f}x)" for size, rate in batched.items()) + f" (target >= 3x); {gpu_memory()}"


def shape_switch(session) -> str:
    """The first batch-1 run after batch-8 runs, against a steady batch-1 run. With one ORT session
    for both sizes this was 0.5-1.8 s at every change (H200, session 16); with a session per batch
    size (backends.GPU_SESSIONS) it should be near the steady time."""
    one = np.random.default_rng(0).standard_normal((1, 3, 320, 320)).astype(np.float32)
    eight = np.repeat(one, 8, axis=0)

    def ms(batch) -> float:
        start = time.perf_counter()
        session.infer(batch)
        return (time.perf_counter() - start) * 1e3

    for _ in range(3):
        session.infer(one), session.infer(eight)
    steady = min(ms(one) for _ in range(5))
    switches = []
    for _ in range(3):
        for _ in range(3):
            session.infer(eight)
        switches.append(ms(one))
    return (f"batch 1 steady {steady:.1f} ms, first batch 1 after batch 8: " + ", ".join(f"{t:.1f}" for t in switches)
            + f" ms; {gpu_memory()}")


def masks(session, photos) -> list[np.ndarray]:
    """Full-size masks, as remove() makes them."""
    return [refine.upsample_mask(session.predict([p])[0], *p.shape[:2]).astype(np.int16) for p in photos]


def end_to_end(session, side: int) -> str:
    """JPEG bytes -> PNG bytes of side² photos: one remove() at a time vs remove_batch (batch 1 and 8),
    each warmed up with the very call it times (a first call with more lanes in flight grows the
    GPU arena and starts cuDNN on new threads)."""
    import io

    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((side, side)).save(buffer, "JPEG", quality=90)
    items = [buffer.getvalue()] * 64

    def rate(call) -> float:
        """Median of three calls after two warm-ups: on an H200 the first calls of a new image or
        batch size ran at 26, 63, then 158 img/s (1024², batch_size=8)."""
        for _ in range(2):
            call()
        times = []
        for _ in range(3):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return len(items) / float(np.median(times))

    single = rate(lambda: [cleancut.remove(item, session=session) for item in items])
    batched = {size: rate(lambda: cleancut.remove_batch(items, session, batch_size=size)) for size in (1, 8)}
    return (f"end to end, {side}² JPEG -> PNG: {single:.1f} img/s one remove() at a time; remove_batch "
            + ", ".join(f"batch_size={size} {speed:.1f} ({speed / single:.1f}x)" for size, speed in batched.items()))


class _RawSession:
    """An onnxruntime session with the `infer` that images_per_second calls."""

    def __init__(self, session):
        self._session, self._input = session, session.get_inputs()[0].name

    def infer(self, batch):
        return self._session.run(None, {self._input: batch})[0]


def _tensorrt_fp16(graph):
    """TensorRT with its own fp16 flag, where TensorRT's libraries load."""
    import onnxruntime as ort

    if "TensorrtExecutionProvider" not in ort.get_available_providers():
        return
    options = {"trt_fp16_enable": True, "trt_engine_cache_enable": True, "trt_engine_cache_path": str(models.cache_dir())}
    session = ort.InferenceSession(str(graph), providers=[("TensorrtExecutionProvider", options)])
    if session.get_providers()[0] == "TensorrtExecutionProvider":  # ORT falls back to the CPU silently
        yield "tensorrt", session
    else:
        print("tensorrt fp16: TensorRT's libraries did not load (onnxruntime fell back to the CPU)")


def main() -> int:
    from cleancut import precision

    failures = []
    model = models.default_model_path()
    graph = models.prepared_graph(model)
    threads = backends.usable_cpus()
    table = backends.measure(graph, threads, (320, 320))
    for timing in table:
        print(f"{timing.backend:22s} {timing.median_ms if timing.median_ms is not None else 'unavailable'} {timing.note}")
    gpu = [t.backend for t in table if t.median_ms is not None and not backends.runs_on_cpu(t.backend)]
    if not gpu:
        failures.append("no GPU backend could run")
    chosen = Session(model).backend
    print("auto-chosen backend:", chosen)
    if chosen not in gpu:
        failures.append(f"auto-selection chose {chosen}, not a GPU backend")
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]  # as rembg users write it
    ported = cleancut.new_session(models.DEFAULT_MODEL, providers=providers).backend
    print(f"new_session(providers={providers}):", ported)
    if ported != "onnxruntime-cuda":
        failures.append(f"providers={providers} ran {ported}, not onnxruntime-cuda")

    # fp32 backends must give the CPU's masks (MAE <= 1/255 on every held-out photo).
    _, held_out = precision.sample_photos()
    reference = masks(Session(model, backend="onnxruntime-cpu"), held_out)
    for name in gpu:  # one session at a time: at batch 64 each holds GBs of GPU memory
        errors = [np.abs(mask - ref).mean() for mask, ref in zip(masks(Session(model, backend=name), held_out), reference)]
        print(f"{name}: full-size mask MAE vs CPU fp32 mean {np.mean(errors):.3f}, worst {max(errors):.3f}/255 on {len(errors)} photos")
        if max(errors) > 1.0:
            failures.append(f"{name} mask differs from the CPU's by up to {max(errors):.2f}/255")
        print(f"{name}: " + throughput(Session(model, backend=name)))
        print(f"{name}: " + shape_switch(Session(model, backend=name)))

    # Reduced precision the way users get it: measured against its fp32 backend (what `cleancut
    # quantize` does), then auto-selection picks it only if its masks stay within the bound.
    verdicts = precision.evaluate(graph, threads, held_out, (320, 320))
    precision.save(graph, verdicts)
    for v in verdicts:
        if v.median_ms is None:
            print(f"{v.backend}: unavailable ({v.note})")
            continue
        print(f"{v.backend}: {v.median_ms:.1f} ms ({v.speedup:.2f}x its fp32), mask MAE mean {v.mae_mean:.3f}, "
              f"worst {v.mae_max:.3f}/255 on {v.photos} photos; qualifies: {v.qualifies}")
        if not backends.runs_on_cpu(v.backend):
            print(f"{v.backend}: " + throughput(Session(model, backend=v.backend)))
    chosen = Session(model)
    print("auto-chosen backend after measuring reduced precision:", chosen.backend)
    for side in (1024, 2048):
        print(f"{chosen.backend}: " + end_to_end(chosen, side))
    del chosen
    for provider, session in _tensorrt_fp16(graph):
        print(f"{provider} fp16: " + throughput(_RawSession(session)))

    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
