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


def main() -> int:
    from skimage import data

    failures = []
    model = models.default_model_path()
    graph = models.with_dynamic_batch(model)
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
        single, batched = images_per_second(session, 1), images_per_second(session, 8)
        print(f"{name}: {single:.1f} img/s at batch 1, {batched:.1f} img/s at batch 8 ({batched / single:.2f}x; target >= 3x)")

    import onnxruntime as ort

    if "TensorrtExecutionProvider" in ort.get_available_providers():
        options = {"trt_fp16_enable": True, "trt_engine_cache_enable": True, "trt_engine_cache_path": str(models.cache_dir())}
        fp16 = ort.InferenceSession(str(graph), providers=[("TensorrtExecutionProvider", options), "CUDAExecutionProvider"])
        name = fp16.get_inputs()[0].name
        batch = np.random.default_rng(0).standard_normal((8, 3, 320, 320)).astype(np.float32)
        fp16.run(None, {name: batch})
        start = time.perf_counter()
        for _ in range(4):
            fp16.run(None, {name: batch})
        print(f"tensorrt fp16: {32 / (time.perf_counter() - start):.1f} img/s at batch 8")

    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
