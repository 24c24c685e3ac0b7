"""Reduced precision: `cleancut quantize` measures it, auto-selection keeps to the error bound,
precision="fast" opts in and says what it costs."""

import json
import logging
import os
import shutil
import subprocess
import sys

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


def bf16_runs(graph) -> bool:
    try:
        backends.load("openvino-cpu-bf16", graph, 1)
        return True
    except backends.BackendUnavailable:
        return False


def verdict(name, ms, mae_mean, mae_max):
    return precision.Verdict(name, ms, 100.0, mae_mean, mae_max, photos=6)


def test_quantize_measures_each_reduced_backend_against_fp32(cache):
    result = subprocess.run([sys.executable, "-m", "cleancut", "quantize"], capture_output=True, text=True, timeout=900,
                            env={**os.environ, "CLEANCUT_HOME": str(cache)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("each against its fp32 backend, on 6 held-out photos")
    stored = json.loads((cache / "precision.json").read_text())
    (verdicts,) = stored.values()
    assert [v["backend"] for v in verdicts] == backends.REDUCED
    int8 = next(v for v in verdicts if v["backend"] == "openvino-cpu-int8")
    assert int8["median_ms"] > 0 and int8["fp32_ms"] > 0 and int8["photos"] == 6 and 0 <= int8["mae_mean"] <= int8["mae_max"]
    for v, line in zip(verdicts, lines[1:]):
        assert line.startswith(v["backend"])
        if v["median_ms"] is not None:
            assert ("qualifies" in line) == (v["mae_max"] <= precision.MAX_MAE)
    assert precision.int8_model_path(models.prepared_graph(cache / "u2netp.onnx")).is_file()


def test_auto_selection_considers_only_variants_within_the_bound(cache, graph):
    threads = backends.usable_cpus()
    precision.save(graph, threads, [verdict("openvino-cpu-bf16", 50.0, 0.5, 1.5), verdict("openvino-cpu-int8", 30.0, 40.0, 80.0)])
    assert precision.qualified(graph, threads) == ["openvino-cpu-bf16"]
    Session(cache / "u2netp.onnx")
    (decision,) = json.loads((cache / "backends.json").read_text()).values()
    measured = {row["backend"] for row in decision["table"]}
    assert "openvino-cpu-bf16" in measured and "openvino-cpu-int8" not in measured


def test_precision_fast_takes_the_fastest_usable_variant_and_logs_its_error(cache, graph, caplog):
    with pytest.raises(ModelError, match="cleancut quantize"):
        Session(cache / "u2netp.onnx", precision="fast")  # nothing measured yet
    if not bf16_runs(graph):
        pytest.skip("this CPU has no bf16 arithmetic")
    # int8 is faster but its masks are broken (mean error over the usable bound): bf16 is taken.
    precision.save(graph, backends.usable_cpus(), [verdict("openvino-cpu-bf16", 50.0, 4.5, 9.5), verdict("openvino-cpu-int8", 30.0, 46.0, 80.0)])
    with caplog.at_level(logging.WARNING, logger="cleancut.session"):
        session = Session(cache / "u2netp.onnx", precision="fast")
    assert session.backend == "openvino-cpu-bf16"
    assert "4.50/255 mean, 9.50/255 worst on 6 held-out photos" in caplog.text and "over the 2/255 bound" in caplog.text


def test_unreadable_verdicts_are_ignored_with_a_warning(cache, graph):
    (cache / "precision.json").write_text("{not json")
    with pytest.warns(RuntimeWarning, match="ignoring the unreadable reduced-precision verdicts file"):
        assert precision.load_verdicts(graph, 2) == [] and precision.qualified(graph, 2) == []
    with pytest.warns(RuntimeWarning, match="reduced-precision verdicts"):
        assert Session(cache / "u2netp.onnx").backend in backends.NAMES


def test_bad_precision_is_a_clear_error(cache):
    with pytest.raises(ModelError, match="precision must be"):
        Session(cache / "u2netp.onnx", precision="half")
