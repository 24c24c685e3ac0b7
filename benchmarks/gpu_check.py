"""The checks and timings benchmarks/gpu.sh runs on a GPU machine (see there)."""

import sys
import time

import numpy as np

from cleancut import backends, models, refine
from cleancut.session import Session, _cpu_threads


def images_per_second(session, batch_size, images=32):
    batch = np.random.default_rng(0).standard_normal((batch_size, 3, 320, 320)).astype(np.float32)
    session.infer(batch)
    start = time.perf_counter()
    for _ in range(images // batch_size):
        session.infer(batch)
    return (images // batch_size) * batch_size / (time.perf_counter() - start)


def throughput(session) -> str:
    single = images_per_second(session, 1, images=128)
    batched = {size: images_per_second(session, size, images=128) for size in (4, 8, 16, 32)}
    return f"{single:.1f} img/s at batch 1, " + ", ".join(
        f"{rate:.1f} at batch {size} ({rate / single:.2f}x)" for size, rate in batched.items()) + " (target >= 3x)"


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
    from skimage import data

    failures = []
    model = models.default_model_path()
    graph = models.prepared_graph(model)
    table = backends.measure(graph, _cpu_threads(), (320, 320))
    for timing in table:
        print(f"{timing.backend:22s} {timing.median_ms if timing.median_ms is not None else 'unavailable'} {timing.note}")
    gpu = [t.backend for t in table if t.median_ms is not None and t.backend in ("onnxruntime-cuda", "onnxruntime-tensorrt")]
    if not gpu:
        failures.append("no GPU backend could run")
    chosen = Session(model).backend
    print("auto-chosen backend:", chosen)
    if chosen not in gpu:
        failures.append(f"auto-selection chose {chosen}, not a GPU backend")

    cpu = Session(model, backend="onnxruntime-cpu")
    photo = data.astronaut()
    reference = refine.upsample_mask(cpu.predict([photo])[0], 512, 512).astype(np.int16)
    for name in gpu:
        session = Session(model, backend=name)
        mask = refine.upsample_mask(session.predict([photo])[0], 512, 512).astype(np.int16)
        mae = np.abs(mask - reference).mean()
        print(f"{name}: mask MAE vs CPU {mae:.3f}/255")
        if mae > 1.0:
            failures.append(f"{name} mask differs from the CPU's by {mae:.2f}/255")
        print(f"{name}: " + throughput(session))

    # Reduced precision the way users get it: measured against fp32 (what `cleancut quantize`
    # does), then auto-selection picks it only if its masks stay within the bound.
    from cleancut import precision

    _, held_out = precision.sample_photos()
    threads = _cpu_threads()
    verdicts = precision.evaluate(graph, threads, held_out, (320, 320))
    precision.save(graph, threads, verdicts)
    for v in verdicts:
        if v.median_ms is None:
            print(f"{v.backend}: unavailable ({v.note})")
        else:
            print(f"{v.backend}: {v.median_ms:.1f} ms ({v.speedup:.2f}x its fp32), mask MAE mean {v.mae_mean:.3f}, "
                  f"worst {v.mae_max:.3f}/255 on {v.photos} photos; qualifies: {v.qualifies}")
    chosen = Session(model)
    print("auto-chosen backend after measuring reduced precision:", chosen.backend)
    if chosen.backend in backends.REDUCED:
        print(f"{chosen.backend}: " + throughput(chosen))
    for provider, session in _tensorrt_fp16(graph):
        print(f"{provider} fp16: " + throughput(_RawSession(session)))

    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
