"""Side-by-side benchmarks: every test times cleancut and its reference (rembg, PIL, OpenCV) on the
same input in the same run; at the end RESULTS.md gets the medians, the ratios and the CPU model."""

import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

from cleancut.backends import cpu_model

RESULTS = Path(__file__).with_name("RESULTS.md")


class Table:
    def __init__(self):
        self.rows = defaultdict(dict)  # group -> {name: median seconds}
        self.notes = []

    def add(self, group, name, seconds):
        self.rows[group][name] = seconds

    def write(self):
        import cleancut
        import numpy
        import onnxruntime

        lines = [
            "# Benchmark results",
            "",
            f"- CPU: {cpu_model()} ({os.cpu_count()} logical cores)",
            f"- cleancut kernels: {cleancut.capabilities()['isa']}; onnxruntime {onnxruntime.__version__}; numpy {numpy.__version__}",
            f"- run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `python -m pytest benchmarks -p no:cacheprovider`",
            "",
            "Medians; ratio = reference time / cleancut time (> 1: cleancut is faster).",
            "",
            "| benchmark | cleancut | reference | reference time | ratio |",
            "|---|---|---|---|---|",
        ]
        for group, timings in self.rows.items():
            ours = timings.get("cleancut")
            for name, seconds in timings.items():
                if name == "cleancut" or ours is None:
                    continue
                lines.append(f"| {group} | {ours * 1e3:.2f} ms | {name} | {seconds * 1e3:.2f} ms | {seconds / ours:.2f}x |")
        lines += ["", *self.notes, ""]
        RESULTS.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="session")
def table():
    t = Table()
    yield t
    if t.rows:
        t.write()


@pytest.fixture(scope="session")
def model_path():
    from cleancut import models

    path = models.default_model_path()
    os.environ["U2NET_HOME"] = str(path.parent)
    return path


@pytest.fixture(scope="session")
def reduced_precision(model_path, table):
    """What `cleancut quantize` measured here (run once if it has not been): auto-selection uses a
    reduced-precision backend only where that found its masks within the bound."""
    import subprocess
    import sys

    from cleancut import models, precision

    graph = models.prepared_graph(model_path)
    if not precision.load_verdicts(graph):
        subprocess.run([sys.executable, "-m", "cleancut", "quantize"], check=True, capture_output=True)
    verdicts = precision.load_verdicts(graph)
    table.notes.append("Reduced precision (`cleancut quantize`, held-out photos, full-size mask error vs its fp32 backend): " + "; ".join(
        f"{v.backend} {v.speedup:.2f}x, worst {v.mae_max:.2f}/255 ({'qualifies' if v.qualifies else 'not used by auto'})"
        for v in verdicts if v.median_ms is not None) + ".")
    return verdicts


@pytest.fixture
def timed(benchmark, table):
    """timed(group, name, fn, rounds): pytest-benchmark's timing, recorded for the table."""

    def run(group, name, fn, rounds=5):
        benchmark.group = group
        benchmark.name = name
        benchmark.pedantic(fn, rounds=rounds, warmup_rounds=1, iterations=1)
        table.add(group, name, benchmark.stats.stats.median)

    return run
