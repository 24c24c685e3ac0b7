"""The command line, run as a user would (a subprocess)."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "cleancut", *map(str, args)], capture_output=True, input=stdin, timeout=120)


@pytest.fixture
def photo(tmp_path, model_path):
    from skimage import data

    path = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(path)
    return path


def test_cut_one_image(photo, tmp_path):
    out = tmp_path / "out.png"
    result = run(photo, out)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.mode == "RGBA" and image.size == (600, 400)
        assert 0 < np.asarray(image)[..., 3].mean() < 255


def test_the_cleancut_script_and_subcommand(photo, tmp_path):
    out = tmp_path / "mask.png"
    result = subprocess.run(["cleancut", "i", str(photo), str(out), "-om"], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.mode == "L"


def test_stdin_to_stdout(photo):
    result = run("-", "-", "--max-side", "100", stdin=photo.read_bytes())
    assert result.returncode == 0, result.stderr
    assert Image.open(io.BytesIO(result.stdout)).size == (100, 67)


def test_never_overwrites_the_input_or_an_existing_output(photo, tmp_path):
    before = photo.read_bytes()
    result = run(photo, photo, "--force")
    assert result.returncode == 1 and b"refusing to overwrite the input" in result.stderr
    assert photo.read_bytes() == before
    existing = tmp_path / "existing.png"
    existing.write_bytes(b"keep")
    result = run(photo, existing)
    assert result.returncode == 1 and b"--force" in result.stderr
    assert existing.read_bytes() == b"keep"


@pytest.mark.parametrize("content", [b"", b"not an image at all"])
def test_bad_input_is_one_line_and_non_zero(tmp_path, content, model_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    result = run(bad, tmp_path / "out.png")
    assert result.returncode == 1
    assert result.stderr.decode().count("\n") == 1 and result.stderr.startswith(b"cleancut: error:")
    assert not (tmp_path / "out.png").exists()


def test_missing_input_file(tmp_path):
    result = run(tmp_path / "nope.jpg", tmp_path / "out.png")
    assert result.returncode == 1 and b"cannot read" in result.stderr


def test_capabilities_and_forced_scalar_path():
    import json
    import os

    result = subprocess.run([sys.executable, "-m", "cleancut", "capabilities"], capture_output=True, timeout=60,
                            env={**os.environ, "CLEANCUT_FORCE_ISA": "scalar"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["isa"] == "scalar"
    result = subprocess.run([sys.executable, "-c", "import cleancut"], capture_output=True, timeout=60,
                            env={**os.environ, "CLEANCUT_FORCE_ISA": "sse9"})
    assert result.returncode != 0 and b"CLEANCUT_FORCE_ISA=sse9 is not available" in result.stderr


def test_models_path(model_path):
    result = run("models", "fetch")
    assert result.returncode == 0 and result.stdout.decode().strip() == str(model_path)
