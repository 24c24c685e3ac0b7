"""The checks and timings benchmarks/gpu.sh runs on a GPU machine (see there)."""

import sys
import time

import numpy as np

from cleancut import backends, models, refine
from cleancut.prepare import prepare
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


def _predict_raw(session, photo):
    batch = prepare(photo, np.empty((1, 3, 320, 320), np.float32))
    return _RawSession(session).infer(batch)[0, 0]


def _fp16_sessions(graph):
    """fp16 through TensorRT (its own fp16 flag) and through CUDA (a graph converted to fp16 with
    float inputs and outputs), where each loads."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.transformers.float16 import convert_float_to_float16

    providers = ort.get_available_providers()
    if "TensorrtExecutionProvider" in providers:
        options = {"trt_fp16_enable": True, "trt_engine_cache_enable": True, "trt_engine_cache_path": str(models.cache_dir())}
        session = ort.InferenceSession(str(graph), providers=[("TensorrtExecutionProvider", options)])
        if session.get_providers()[0] == "TensorrtExecutionProvider":  # ORT falls back to the CPU silently
            yield "tensorrt", session
        else:
            print("tensorrt fp16: TensorRT's libraries did not load (onnxruntime fell back to the CPU)")
    if "CUDAExecutionProvider" in providers:
        half = convert_float_to_float16(onnx.load(str(graph)), keep_io_types=True)
        yield "cuda", ort.InferenceSession(half.SerializeToString(), providers=["CUDAExecutionProvider"])


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
    if "onnxruntime-cuda" in gpu:
        # The CUDA provider's layout and math options, on the same graph.
        import onnxruntime as ort

        for options in ({"prefer_nhwc": "1"}, {"use_tf32": "0"}, {"cudnn_conv_algo_search": "HEURISTIC"}):
            try:
                variant = ort.InferenceSession(str(graph), providers=[("CUDAExecutionProvider", options)])
            except Exception as e:  # an option this build does not know
                print(f"cuda {options}: {e}")
                continue
            mask = refine.upsample_mask(_predict_raw(variant, photo), 512, 512).astype(np.int16)
            print(f"cuda {options}: MAE vs CPU {np.abs(mask - reference).mean():.3f}/255, " + throughput(_RawSession(variant)))

    for provider, fp16 in _fp16_sessions(graph):
        mask = refine.upsample_mask(_predict_raw(fp16, photo), 512, 512).astype(np.int16)
        print(f"{provider} fp16: mask MAE vs CPU fp32 {np.abs(mask - reference).mean():.3f}/255, "
              + throughput(_RawSession(fp16)))

    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
