"""Reduced precision: `cleancut quantize` measures it, auto-selection keeps to the error bound,
precision="fast" opts in and says what it costs."""

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from cleancut import backends, models, precision
from cleancut.errors import ModelError
from cleancut.session import Session


@pytest.fixture
def cache(tmp_path, monkeypatch, model_path):
    """A fresh cache folder holding only the model."""
    monkeypatch.setenv("CLEANCUT_HOME", str(tmp_path))
    shutil.copy(model_path, tmp_path / model_path.name)
    return tmp_path


@pytest.fixture
def graph(cache, model_path):
    return models.prepared_graph(cache / model_path.name)


def cpu_has_bf16() -> bool:
    import openvino as ov

    return backends.cpu_has_bf16(ov.Core())


@pytest.fixture(scope="module")
def quantized(tmp_path_factory, model_path):
    """`cleancut quantize` run once, in a cache folder of its own: (folder, its stdout)."""
    folder = tmp_path_factory.mktemp("quantized")
    shutil.copy(model_path, folder / model_path.name)
    result = subprocess.run([sys.executable, "-m", "cleancut", "quantize"], capture_output=True, text=True, timeout=900,
                            env={**os.environ, "CLEANCUT_HOME": str(folder)})
    assert result.returncode == 0, result.stderr
    return folder, result.stdout


def copy_network(quantized, cache, network):
    """A network `cleancut quantize` made in the ``quantized`` folder into ``cache`` (.xml, .bin and their records)."""
    for made in (quantized[0] / network.relative_to(cache)).parent.glob(f"{network.stem}.*"):
        shutil.copy(made, network.with_name(made.name))


def verdict(name, ms, mae_mean, mae_max):
    return precision.Verdict(name, ms, 100.0, mae_mean, mae_max, photos=6)


def test_quantize_measures_each_reduced_backend_against_fp32(quantized):
    folder, stdout = quantized
    lines = stdout.splitlines()
    assert lines[0].startswith("each against its fp32 backend, on 6 held-out photos")
    stored = json.loads((folder / "precision.json").read_text())
    (verdicts,) = stored.values()
    assert [v["backend"] for v in verdicts] == backends.REDUCED
    int8 = next(v for v in verdicts if v["backend"] == "openvino-cpu-int8")
    assert int8["median_ms"] > 0 and int8["fp32_ms"] > 0 and int8["photos"] == 6 and 0 <= int8["mae_mean"] <= int8["mae_max"]
    for v, line in zip(verdicts, lines[1:]):
        assert line.startswith(v["backend"])
        if v["median_ms"] is not None:
            assert ("qualifies" in line) == (v["mae_max"] <= precision.MAX_MAE)
    assert any(folder.glob("prepared/*-int8.xml"))


def test_bf16_with_fp32_islands_qualifies(quantized, cache, graph):
    """A few convolutions in fp32 keep the bf16 network's masks within the bound on every held-out photo."""
    if not cpu_has_bf16():
        pytest.skip("this CPU has no bf16 arithmetic")
    folder, stdout = quantized
    (verdicts,) = json.loads((folder / "precision.json").read_text()).values()
    bf16 = next(v for v in verdicts if v["backend"] == "openvino-cpu-bf16")
    assert bf16["mae_max"] <= precision.MAX_MAE and bf16["median_ms"] < bf16["fp32_ms"]
    kept = next(line for line in stdout.splitlines() if line.startswith("bf16 network: "))
    assert 0 < int(kept.split()[2]) <= 12, "a few of u2netp's 119 convolutions"
    assert (folder / precision.bf16_model_path(graph).relative_to(cache)).is_file()


def convolution_precisions(network: Path, hint: str) -> dict[str, str]:
    """Convolution -> the precision OpenVINO's CPU plugin runs it in, for an IR compiled with ``hint``."""
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(network))
    model.reshape({model.inputs[0]: [1, 3, 320, 320]})
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": hint})
    return {op.get_friendly_name(): op.get_rt_info()["runtimePrecision"].astype(str) for op in compiled.get_runtime_model().get_ordered_ops()
            if op.get_rt_info()["layerType"].astype(str) == "Convolution"}


def test_int8_where_cheap_qualifies_and_runs_those_convolutions_in_int8(quantized, cache, graph):
    """The slowest convolutions the mask tolerates run INT8, the bf16 network's islands fp32, the
    rest as the bf16 network; its masks stay within the bound on every held-out photo."""
    folder, stdout = quantized
    (verdicts,) = json.loads((folder / "precision.json").read_text()).values()
    int8 = next(v for v in verdicts if v["backend"] == "openvino-cpu-int8")
    assert int8["mae_max"] <= precision.MAX_MAE and int8["median_ms"] < int8["fp32_ms"]
    line = next(line for line in stdout.splitlines() if line.startswith("INT8 network: "))
    chosen = line.split(": ", 2)[2].split(", ")
    assert 0 < int(line.split()[2]) == len(chosen) <= 20
    has_bf16 = cpu_has_bf16()
    ran = convolution_precisions(folder / precision.int8_model_path(graph).relative_to(cache), "bf16" if has_bf16 else "f32")
    assert all(ran[name] in ("u8", "i8") for name in chosen)
    others = {name: p for name, p in ran.items() if name not in chosen}
    assert others and not any(p in ("u8", "i8") for p in others.values())
    if has_bf16:
        kept = next(line for line in stdout.splitlines() if line.startswith("bf16 network: ")).split(": ", 2)[2].split(", ")
        assert all(ran[name] == "f32" for name in kept)
        assert all(p == "bf16" for name, p in others.items() if name not in kept)


def test_marked_layers_keep_fp32_in_a_bf16_network(graph):
    """The mechanism the islands rest on: with every layer marked, OpenVINO's bf16 mode computes what fp32 does."""
    if not cpu_has_bf16():
        pytest.skip("this CPU has no bf16 arithmetic")
    import openvino as ov

    from cleancut import mixed_precision

    x = np.random.default_rng(0).standard_normal((1, 3, 320, 320)).astype(np.float32)
    core = ov.Core()
    original = core.read_model(str(graph))
    original.reshape({original.inputs[0]: [1, 3, 320, 320]})
    fp32 = core.compile_model(original, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request().infer({0: x})[0]
    with tempfile.TemporaryDirectory() as scratch:
        ir = mixed_precision._MarkedIR(mixed_precision._rebuilt(graph), Path(scratch))
        marked = ir.compile(set(ir.layers), threads=2).infer({0: x})[0]
        unmarked = ir.compile(set(), threads=2).infer({0: x})[0]
    assert np.abs(marked - fp32).max() <= 1e-5
    assert np.abs(unmarked - fp32).max() > 1e-3, "bf16 where nothing is marked"


def test_int8_network_on_a_cpu_without_bf16(graph, model_path, monkeypatch):
    """Without bf16 there is no bf16 network and no islands: the INT8 network's other layers run
    fp32, and the convolutions chosen on the calibration photos run INT8."""
    from cleancut import mixed_precision

    calibration, _ = precision.sample_photos()
    inputs = [precision._network_input(p, (320, 320)) for p in calibration[:3]]
    monkeypatch.setattr(mixed_precision, "INT8_CANDIDATES", 4)  # the four heaviest convolutions: enough to see the path
    target = precision.int8_model_path(graph)
    made = mixed_precision.build(graph, None, target, inputs, threads=2)
    assert made.kept_fp32 is None and not precision.bf16_model_path(graph).exists()
    assert 0 < len(made.int8) <= 4
    convolutions = convolution_precisions(target, "f32")
    assert {name for name, p in convolutions.items() if p in ("u8", "i8")} == set(made.int8)
    assert all(p == "f32" for name, p in convolutions.items() if name not in made.int8)


def test_auto_selection_considers_only_variants_within_the_bound(cache, graph, quantized):
    if not cpu_has_bf16():
        pytest.skip("this CPU has no bf16 arithmetic")
    for network in (precision.bf16_model_path(graph), precision.int8_model_path(graph)):
        copy_network(quantized, cache, network)
    precision.save(graph, [verdict("openvino-cpu-bf16", 50.0, 0.5, 1.5), verdict("openvino-cpu-int8", 30.0, 40.0, 80.0)])
    assert precision.qualified(graph) == ["openvino-cpu-bf16"]
    Session(cache / "u2netp.onnx")
    (decision,) = json.loads((cache / "backends.json").read_text()).values()
    measured = {row["backend"] for row in decision["table"]}
    assert "openvino-cpu-bf16" in measured and "openvino-cpu-int8" not in measured


def test_verdicts_hold_at_any_thread_count(cache, graph, quantized):
    """A mask's error does not depend on the threads: a session on one thread (a Ray actor's CPU)
    also considers what `cleancut quantize` found within the bound, timed at its own threads."""
    copy_network(quantized, cache, precision.int8_model_path(graph))
    precision.save(graph, [verdict("openvino-cpu-int8", 30.0, 0.5, 1.0)])
    Session(cache / "u2netp.onnx", threads=1)
    ((key, decision),) = json.loads((cache / "backends.json").read_text()).items()
    assert json.loads(key)["threads"] == 1 and "openvino-cpu-int8" in {row["backend"] for row in decision["table"]}


@pytest.mark.parametrize("damaged", [".xml", ".bin"])
def test_a_damaged_quantized_network_is_left_out_with_a_warning(cache, graph, quantized, damaged):
    """A network `cleancut quantize` made, damaged since: auto-selection warns and picks among the
    others; asked for by name, it is a clear error that says how to make it again. (It used to
    fail every session with the runtime's parse error until the file was deleted.)"""
    network = precision.int8_model_path(graph)
    copy_network(quantized, cache, network)
    precision.save(graph, [verdict("openvino-cpu-int8", 30.0, 0.5, 1.0)])
    assert Session(cache / "u2netp.onnx", backend="openvino-cpu-int8").backend == "openvino-cpu-int8"
    part = network.with_suffix(damaged)
    part.write_bytes(part.read_bytes()[:-1000])
    with pytest.warns(RuntimeWarning, match=f"ignoring the damaged INT8 network {part} .*run `cleancut quantize` to make it again"):
        session = Session(cache / "u2netp.onnx")
    (decision,) = json.loads((cache / "backends.json").read_text()).values()
    assert "openvino-cpu-int8" not in {row["backend"] for row in decision["table"]} and session.backend != "openvino-cpu-int8"
    assert session.predict([np.zeros((40, 30, 3), np.uint8)]).shape == (1, 320, 320)
    with pytest.warns(RuntimeWarning, match="ignoring the damaged INT8 network"), \
            pytest.raises(backends.BackendUnavailable, match=f"INT8 network {network} is damaged \\(run `cleancut quantize`"):
        Session(cache / "u2netp.onnx", backend="openvino-cpu-int8")


def test_precision_fast_takes_the_fastest_usable_variant_and_logs_its_error(cache, graph, quantized, caplog):
    with pytest.raises(ModelError, match="cleancut quantize"):
        Session(cache / "u2netp.onnx", precision="fast")  # nothing measured yet
    if not cpu_has_bf16():
        pytest.skip("this CPU has no bf16 arithmetic")
    copy_network(quantized, cache, precision.bf16_model_path(graph))
    # int8 is faster but its masks are broken (mean error over the usable bound): bf16 is taken.
    precision.save(graph, [verdict("openvino-cpu-bf16", 50.0, 4.5, 9.5), verdict("openvino-cpu-int8", 30.0, 46.0, 80.0)])
    with caplog.at_level(logging.WARNING, logger="cleancut.session"):
        session = Session(cache / "u2netp.onnx", precision="fast")
    assert session.backend == "openvino-cpu-bf16"
    assert "4.50/255 mean, 9.50/255 worst on 6 held-out photos" in caplog.text and "over the 2/255 bound" in caplog.text


def test_unreadable_verdicts_are_ignored_with_a_warning(cache, graph):
    (cache / "precision.json").write_text("{not json")
    with pytest.warns(RuntimeWarning, match="ignoring the unreadable reduced-precision verdicts file"):
        assert precision.load_verdicts(graph) == [] and precision.qualified(graph) == []
    with pytest.warns(RuntimeWarning, match="reduced-precision verdicts"):
        assert Session(cache / "u2netp.onnx").backend in backends.NAMES


def test_bad_precision_is_a_clear_error(cache):
    with pytest.raises(ModelError, match="precision must be"):
        Session(cache / "u2netp.onnx", precision="half")


def test_cleancut_backends_times_qualified_variants_and_says_how_to_measure_them(cache, graph):
    def table() -> str:
        result = subprocess.run([sys.executable, "-m", "cleancut", "backends"], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout

    before = table()
    assert before.startswith(("onnxruntime-cpu", "openvino-cpu")) and "openvino-cpu-bf16" not in before
    assert "not measured on this machine yet: `cleancut quantize`" in before
    precision.save(graph, [verdict("openvino-cpu-bf16", 50.0, 0.5, 1.5), verdict("openvino-cpu-int8", 30.0, 40.0, 80.0)])
    after = table()
    assert "openvino-cpu-bf16" in after and "openvino-cpu-int8" not in after and "not measured" not in after


def test_int8_bias_correction_takes_the_rounding_shift_off(graph):
    """Rounding a convolution's weights and input to INT8 shifts its output channels' means over the
    calibration photos; the correction computed on them takes that shift off again (compared in
    fp32 arithmetic, so that only the INT8 rounding differs)."""
    import openvino as ov

    from cleancut import mixed_precision

    calibration, _ = precision.sample_photos()
    inputs = [precision._network_input(p, (320, 320)) for p in calibration[:2]]
    convolution = "Conv_136/WithoutBiases"  # u2netp's 64->64 3x3 at 160², one whose INT8 rounding moves the map
    ranges = mixed_precision._range_over(mixed_precision._input_ranges(graph, [convolution], inputs), [convolution])

    def channel_means(model) -> np.ndarray:
        """The convolution's output after its bias (and the correction, where there is one, which
        comes before the bias) averaged per channel, on each input."""
        bias = next(n for n in model.get_ordered_ops() if n.get_friendly_name() == convolution.removesuffix("/WithoutBiases"))
        model.add_outputs([bias.output(0)])
        request = ov.Core().compile_model(mixed_precision._one_image(model), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request()
        return np.stack([request.infer({0: x})[-1][0].mean(axis=(1, 2)) for x in inputs])

    exact = channel_means(mixed_precision._rebuilt(graph))
    plain = np.abs((channel_means(mixed_precision._with_int8(graph, ranges)) - exact).mean(axis=0)).max()
    means = mixed_precision._input_means(graph, ranges, inputs)
    corrected = np.abs((channel_means(mixed_precision._with_int8(graph, ranges, means)) - exact).mean(axis=0)).max()
    # Measured: 0.0013 against 0.017 (the correction ignores the zero padding at the borders).
    assert corrected < plain / 5, (corrected, plain)
