"""Ray Data on a local Ray (2 CPUs): 30+ images, outputs equal to the single-process cut, a corrupt
file and two files that would share an output reported without stopping the run."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

ray = pytest.importorskip("ray")
# Ray's own modules warn at import and start-up; those are not ours to turn into errors.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning"),
    pytest.mark.timeout(300),  # a stalled Ray pipeline must fail the test, not hang CI
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory, model_path):
    from skimage import data

    root = tmp_path_factory.mktemp("photos")
    base = Image.fromarray(data.astronaut()).resize((96, 96))
    for i in range(32):
        sub = root / ("even" if i % 2 == 0 else "odd")
        sub.mkdir(exist_ok=True)
        base.rotate(i * 11).save(sub / f"p{i:02d}.{'png' if i % 3 else 'jpg'}")
    (root / "odd" / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")
    base.save(root / "odd" / "p01.jpg")  # beside p01.png: both would make p01.png
    return root


@pytest.fixture(scope="module")
def local_ray(model_path):
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"CLEANCUT_HOME": str(model_path.parent)}})
    yield
    ray.shutdown()


def test_ray_outputs_equal_single_process_and_report_the_corrupt_file(folder, local_ray, tmp_path):
    import cleancut
    from cleancut.ray import cut_files

    # Each actor runs on the one CPU Ray gives it, and so does the process it is compared with
    # (the backend chosen for one thread may not be the one chosen for all cores).
    session = cleancut.new_session(threads=1)

    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    out = tmp_path / "out"
    failures = cut_files(paths, folder, out, batch_size=4, bgcolor=(255, 255, 255, 255))
    clashing = [str(folder / "odd" / name) for name in ("p01.jpg", "p01.png")]
    assert sorted(failures) == sorted([str(folder / "odd" / "broken.jpg"), *clashing])
    assert "cannot" in failures[str(folder / "odd" / "broken.jpg")]
    assert all("p01.jpg and p01.png would both be cut to p01.png" in failures[path] for path in clashing)
    assert not (out / "odd" / "p01.png").exists()
    good = [p for p in paths if p.name not in ("broken.jpg", "p01.jpg", "p01.png")]
    assert len(good) >= 30
    for path in good:
        expected = cleancut.remove(path.read_bytes(), session=session, bgcolor=(255, 255, 255, 255))
        produced = out / path.relative_to(folder).with_suffix(".png")
        with Image.open(io.BytesIO(expected)) as a, Image.open(produced) as b:
            assert np.array_equal(np.asarray(a), np.asarray(b)), path
    assert not (out / "odd" / "broken.png").exists()


@pytest.mark.parametrize("cpus", [1, 2])
def test_an_actor_runs_its_network_on_the_cpus_ray_gives_it(local_ray, cpus, tmp_path):
    """Not on every core of its node: there N actors of N threads each would fight over them."""
    from cleancut.ray import Cutter

    actor = ray.remote(num_cpus=cpus)(Cutter).remote(str(tmp_path), str(tmp_path / "out"))
    try:
        assert ray.get(actor.__ray_call__.remote(lambda cutter: cutter.session.threads)) == cpus
    finally:
        ray.kill(actor)


def test_files_outside_the_root_are_reported_not_cut(tmp_path):
    import cleancut
    from cleancut.ray import cut_files

    outside = tmp_path / "elsewhere.jpg"
    failures = cut_files([outside], tmp_path / "root", tmp_path / "out")  # nothing left to cut: Ray is not started
    assert list(failures) == [str(outside)] and "not under" in failures[str(outside)]
    assert not (tmp_path / "out").exists()
    with pytest.raises(cleancut.InvalidInputError, match="cpus_per_actor"):
        cut_files([outside], tmp_path / "root", tmp_path / "out", cpus_per_actor=0)


def test_cli_folder_mode_with_the_ray_engine(folder, tmp_path, model_path):
    """Also with rembg's extras: the actors run the model file as the kind -m names."""
    out = tmp_path / "cli-out"
    env = {**os.environ, "CLEANCUT_HOME": str(model_path.parent), "RAY_USAGE_STATS_ENABLED": "0"}
    extras = json.dumps({"model_path": str(model_path)})
    result = subprocess.run([sys.executable, "-m", "cleancut", "p", str(folder), str(out), "--engine", "ray", "--workers", "1",
                             "-m", "u2net_custom", "-x", extras], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "31 cut, 3 failed" in result.stderr and "broken.jpg" in result.stderr and "rename one" in result.stderr
    assert len(list(out.rglob("*.png"))) == 31
