"""Surfaces side by side: `cleancut s` vs `rembg s` under 8 concurrent clients, and a cold
`cleancut i` vs `rembg i` (wall time and peak memory). rembg's CLI lives in its own venv:
run benchmarks/rembg_cli_env.sh once first."""

import io
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from PIL import Image

REMBG = Path(__file__).with_name(".rembg-venv") / "bin" / "rembg"
pytestmark = pytest.mark.skipif(not REMBG.exists(), reason="run benchmarks/rembg_cli_env.sh first")
CLEANCUT = [sys.executable, "-m", "cleancut"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(model_path):
    return {**os.environ, "U2NET_HOME": str(model_path.parent), "CLEANCUT_HOME": str(model_path.parent)}


def photos_512(count):
    from skimage import data

    base = Image.fromarray(data.astronaut())
    out = []
    for i in range(count):  # distinct bytes, so no cache can answer
        buffer = io.BytesIO()
        base.rotate(i * 0.5).save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def serve_and_load(command, env, health, post, clients=8, requests=48):
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(health, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{command} did not start")
            time.sleep(0.2)
        bodies = photos_512(requests)
        with httpx.Client(timeout=120) as client, ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda b: post(client, b), bodies[:clients]))  # warm up
            start = time.perf_counter()
            codes = list(pool.map(lambda b: post(client, b).status_code, bodies))
            elapsed = time.perf_counter() - start
        assert set(codes) == {200}, codes
        return requests / elapsed
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_http_throughput_vs_rembg_s(table, model_path):
    env = environment(model_path)
    port = free_port()
    ours = serve_and_load(
        [*CLEANCUT, "s", "--port", str(port), "--cache-mb", "0"], env, f"http://127.0.0.1:{port}/healthz",
        lambda c, b: c.post(f"http://127.0.0.1:{port}/api/remove", files={"file": ("a.jpg", b, "image/jpeg")}),
    )
    port = free_port()
    theirs = serve_and_load(
        [str(REMBG), "s", "--host", "127.0.0.1", "--port", str(port), "--no-ui", "--log_level", "warning"], env,
        f"http://127.0.0.1:{port}/api",
        lambda c, b: c.post(f"http://127.0.0.1:{port}/api/remove", files={"file": ("a.jpg", b, "image/jpeg")}, data={"model": "u2netp"}),
    )
    group = "HTTP 512x512 JPEG, 8 clients (time per request; cache off)"
    table.add(group, "cleancut", 1 / ours)
    table.add(group, "rembg s 2.0.86 (--no-ui)", 1 / theirs)
    table.notes.append(f"HTTP throughput, 512x512, 8 concurrent clients: cleancut {ours:.2f} req/s, rembg s {theirs:.2f} req/s "
                       f"({ours / theirs:.2f}x; target >= 2.5x).")


# A child's ru_maxrss counts its parent's size at fork (Linux keeps the high-water mark across
# exec), so each command is started from a small, fresh launcher process.
LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps([time.perf_counter() - start, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status)]))
"""


def cold_run(command, env):
    import json

    out = subprocess.run([sys.executable, "-c", LAUNCHER, *command], env=env, capture_output=True, text=True, check=True)
    wall, peak, code = json.loads(out.stdout)
    assert code == 0, out.stderr
    return wall, peak


def test_cli_cold_start_vs_rembg_i(table, model_path, tmp_path):
    from skimage import data

    photo = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(photo)  # 600x400
    env = environment(model_path)
    ours = [cold_run([*CLEANCUT, "i", str(photo), str(tmp_path / f"ours{i}.png")], env) for i in range(3)]
    theirs = [cold_run([str(REMBG), "i", "-m", "u2netp", str(photo), str(tmp_path / f"theirs{i}.png")], env) for i in range(3)]
    our_wall, their_wall = statistics.median(w for w, _ in ours), statistics.median(w for w, _ in theirs)
    our_rss, their_rss = max(m for _, m in ours), max(m for _, m in theirs)
    group = "CLI cold start, one 600x400 photo"
    table.add(group, "cleancut", our_wall)
    table.add(group, "rembg i 2.0.86", their_wall)
    table.notes.append(
        f"CLI cold start (600x400): cleancut {our_wall:.2f} s / {our_rss / 2**20:.0f} MiB peak RSS, rembg i {their_wall:.2f} s / "
        f"{their_rss / 2**20:.0f} MiB (wall {our_wall / their_wall:.2f}x, memory {our_rss / their_rss:.2f}x; targets <= 0.5x)."
    )
    with Image.open(tmp_path / "ours0.png") as image:
        assert image.mode == "RGBA"


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning")
def test_folder_mode_ray_vs_single_process(table, model_path, tmp_path):
    """`cleancut p` on 24 photos of 512x512: Ray Data (local, one actor) against the thread pool."""
    pytest.importorskip("ray")
    from skimage import data

    photos = tmp_path / "in"
    photos.mkdir()
    base = Image.fromarray(data.astronaut())
    for i in range(24):
        base.rotate(i * 7).save(photos / f"p{i:02d}.jpg", quality=90)
    env = {**environment(model_path), "RAY_USAGE_STATS_ENABLED": "0"}
    times = {}
    for engine in ("local", "ray"):
        start = time.perf_counter()
        subprocess.run([*CLEANCUT, "p", str(photos), str(tmp_path / engine), "--engine", engine, "--workers", "1"],
                       env=env, check=True, capture_output=True, timeout=600)
        times[engine] = time.perf_counter() - start
    group = "folder of 24 photos 512x512 (whole command, s/image)"
    table.add(group, "cleancut", times["local"] / 24)
    table.add(group, "cleancut --engine ray (local Ray, 1 actor)", times["ray"] / 24)
    table.notes.append(f"Folder mode, 24 photos: thread pool {24 / times['local']:.2f} images/s, Ray Data {24 / times['ray']:.2f} "
                       "images/s on this 2-core machine (Ray's start-up included; it pays off across machines, not here).")
