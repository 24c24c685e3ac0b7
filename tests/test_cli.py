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


def test_outputs_get_the_permissions_a_plain_write_gives(photo, tmp_path):
    """Written through a temporary file (0600), an output still gets 0666 less the umask, and a
    file replaced with --force keeps its own mode."""
    import os
    import stat

    umask = os.umask(0o027)  # the child inherits it
    try:
        assert run(photo, tmp_path / "new.png").returncode == 0
        kept = tmp_path / "kept.png"
        kept.write_bytes(b"old")
        kept.chmod(0o640)
        assert run(photo, kept, "--force").returncode == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.png").stat().st_mode) == 0o640
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_bytes() != b"old"
    os.chmod(kept, 0o604)
    assert run(photo, kept, "--force").returncode == 0 and stat.S_IMODE(kept.stat().st_mode) == 0o604


def test_the_cleancut_script_and_subcommand(photo, tmp_path):
    out = tmp_path / "mask.png"
    result = subprocess.run(["cleancut", "i", str(photo), str(out), "-om"], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.mode == "L"


def test_edge_options(photo, tmp_path):
    outputs = {}
    for name, flags in {"plain": [], "rf": ["-rf"], "matting": ["-a", "-af", "230", "-ab", "20", "-ae", "6"]}.items():
        out = tmp_path / f"{name}.png"
        result = run("i", photo, out, *flags)
        assert result.returncode == 0, result.stderr
        outputs[name] = np.asarray(Image.open(out))
    assert np.array_equal(outputs["plain"][..., 3], outputs["rf"][..., 3])
    assert not np.array_equal(outputs["plain"][..., :3], outputs["rf"][..., :3])
    assert not np.array_equal(outputs["plain"][..., 3], outputs["matting"][..., 3])
    bad = run("i", photo, tmp_path / "bad.png", "-a", "-af", "300")
    assert bad.returncode != 0 and not (tmp_path / "bad.png").exists()


def test_compress_level(photo, tmp_path):
    fast, small = tmp_path / "fast.png", tmp_path / "small.png"
    assert run(photo, fast).returncode == 0 and run(photo, small, "--compress-level", "9").returncode == 0
    assert small.stat().st_size < fast.stat().st_size
    assert np.array_equal(np.asarray(Image.open(small)), np.asarray(Image.open(fast)))
    bad = run(photo, tmp_path / "bad.png", "--compress-level", "10")
    assert bad.returncode != 0 and b"compress-level" in bad.stderr and not (tmp_path / "bad.png").exists()


def test_bench_times_cleancut_beside_rembg(model_path):
    # Without U2NET_HOME, bench points rembg at cleancut's verified model (no download).
    env = {k: v for k, v in __import__("os").environ.items() if k != "U2NET_HOME"}
    result = subprocess.run([sys.executable, "-m", "cleancut", "bench", "--sizes", "64,96", "--rounds", "1"],
                            capture_output=True, encoding="utf-8", timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("CPU: ") and "backend: " in lines[0]
    assert lines[2].split()[0] == "64x64" and lines[3].split()[0] == "96x96"
    assert all(line.endswith("x") for line in lines[2:])  # a speed-up ratio per size
    assert all(line.split()[3].startswith("(") and line.split()[3].endswith("x)") for line in lines[2:])  # remove_batch's gain
    assert run("bench", "--sizes", "big").returncode == 1


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


def test_unwritable_output_is_one_line(photo, tmp_path):
    for target in (photo / "out.png", tmp_path / "missing" / "dir" / "out.png"):
        result = run(photo, target)
        if target.parent.parent.name == "missing":  # a missing folder is made, as rembg does
            assert result.returncode == 0 and target.exists(), result.stderr
        else:  # under a file
            assert result.returncode == 1 and result.stderr.decode().count("\n") == 1
            assert result.stderr.startswith(b"cleancut: error: cannot write")
    assert not list(tmp_path.glob("**/*.part"))


def test_the_output_suffix_picks_the_format(photo, tmp_path):
    """rembg writes PNG bytes under any name; cleancut writes what the name says, losslessly but
    for JPEG, and refuses a name it cannot honour before doing any work."""
    assert run(photo, tmp_path / "ref.png").returncode == 0
    reference = np.asarray(Image.open(tmp_path / "ref.png"))
    for name, file_format in [("cut.webp", "WEBP"), ("cut.TIFF", "TIFF"), ("cut", "PNG")]:
        result = run(photo, tmp_path / name)
        assert result.returncode == 0, result.stderr
        with Image.open(tmp_path / name) as written:
            assert written.format == file_format and np.array_equal(np.asarray(written), reference), name
    # downscaled the same way too (the WebP's photo was once resized apart from the PNG's: up to 231 levels off)
    assert run(photo, tmp_path / "small.png", "--max-side", 200).returncode == 0
    assert run(photo, tmp_path / "small.webp", "--max-side", 200).returncode == 0
    with Image.open(tmp_path / "small.png") as png, Image.open(tmp_path / "small.webp") as webp:
        assert webp.size == (200, 133) and np.array_equal(np.asarray(webp), np.asarray(png))

    assert run(photo, tmp_path / "white.png", "-bgc", 255, 255, 255, 255).returncode == 0
    assert run(photo, tmp_path / "white.jpg", "-bgc", 255, 255, 255, 255).returncode == 0
    with Image.open(tmp_path / "white.jpg") as jpeg, Image.open(tmp_path / "white.png") as png:
        assert jpeg.format == "JPEG" and jpeg.mode == "RGB"
        assert np.abs(np.asarray(jpeg, np.int16) - np.asarray(png.convert("RGB"), np.int16)).mean() < 2
    assert run(photo, tmp_path / "mask.jpg", "-om").returncode == 0
    with Image.open(tmp_path / "mask.jpg") as mask:
        assert mask.format == "JPEG" and mask.mode == "L"

    for name, args, message in [("cut.jpg", [], b"JPEG has no transparency"), ("see-through.jpg", ["-bgc", 255, 0, 0, 128], b"JPEG has no transparency"),
                                ("cut.gif", [], b"cannot write .gif files")]:
        result = run(photo, tmp_path / name, *args)
        assert result.returncode == 1 and message in result.stderr, result.stderr
        assert result.stderr.decode().count("\n") == 1 and not (tmp_path / name).exists()


def test_outputs_keep_the_photos_colour_profile(tmp_path, model_path):
    from PIL import ImageCms
    from skimage import data

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = tmp_path / "tagged.jpg"
    Image.fromarray(data.coffee()[::2, ::2]).save(photo, icc_profile=profile)
    for name in ("cut.png", "cut.webp", "cut.tif"):
        assert run(photo, tmp_path / name).returncode == 0
        with Image.open(tmp_path / name) as image:
            assert image.info.get("icc_profile") == profile, name
    assert run(photo, tmp_path / "mask.png", "-om").returncode == 0
    with Image.open(tmp_path / "mask.png") as mask:
        assert "icc_profile" not in mask.info


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


def test_server_port_out_of_range_is_a_usage_error():
    result = run("s", "--port", 99999)
    assert result.returncode == 2 and b"not in the range" in result.stderr and b"Traceback" not in result.stderr


def test_help_lists_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("i", "p", "b", "s", "d", "models", "capabilities"):
        assert f"  {command} " in result.stdout.decode()


def test_folder_mode_resumes_and_reports_failures(tmp_path, model_path):
    from skimage import data

    source = tmp_path / "in"
    (source / "nested" / "deeper").mkdir(parents=True)
    Image.fromarray(data.coffee()[::4, ::4]).save(source / "a.jpg")
    Image.fromarray(data.chelsea()[::4, ::4]).save(source / "nested" / "b.png")
    Image.fromarray(data.rocket()[::4, ::4]).save(source / "nested" / "deeper" / "c.webp")
    (source / "nested" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (source / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    (out / "nested").mkdir(parents=True)
    (out / "nested" / "b.png").write_bytes(b"already done")
    inputs_before = {p: p.read_bytes() for p in source.rglob("*") if p.is_file()}

    first = run("p", source, out, "--workers", "2")
    assert first.returncode == 1
    assert "broken.jpg" in first.stderr.decode() and "2 cut, 1 failed" in first.stderr.decode()
    with Image.open(out / "a.png") as a, Image.open(out / "nested" / "deeper" / "c.png") as c:
        assert a.mode == c.mode == "RGBA"
    assert (out / "nested" / "b.png").read_bytes() == b"already done", "existing outputs are kept"
    assert not (out / "notes.png").exists() and not list(out.rglob("*.part"))
    assert {p: p.read_bytes() for p in source.rglob("*") if p.is_file()} == inputs_before

    (source / "nested" / "broken.jpg").unlink()
    second = run("p", source, out)
    assert second.returncode == 0 and "0 cut, 0 failed" in second.stderr.decode()


def test_folder_mode_gives_many_images_a_lane_per_worker_with_the_same_cut_outs(tmp_path, session, monkeypatch):
    """From LANES_PAY_OFF images on, each folder worker takes images on a lane of its own, as
    remove_batch runs them: two workers sharing the whole session took 59-65 ms per 2048² photo,
    lanes 52-55 (2 cores). Fewer images share the session: making the lanes' networks cost more
    than 24 photos gained. Run in this process to see the lanes asked for."""
    from click.testing import CliRunner
    from skimage import data

    import cleancut
    from cleancut.cli import LANES_PAY_OFF, cli
    from cleancut.session import Session

    asked = []
    lanes = Session.lanes
    monkeypatch.setattr(Session, "lanes", lambda self, count: asked.append(count) or lanes(self, count))
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    photos = [getattr(data, name)()[::8, ::8] for name in ("coffee", "chelsea", "rocket", "astronaut")]
    for i in range(LANES_PAY_OFF):
        Image.fromarray(np.roll(photos[i % 4], i, axis=1)).save(source / f"{i}.jpg")
    many = CliRunner().invoke(cli, ["p", str(source), str(out), "--workers", "2"], catch_exceptions=False)
    Image.fromarray(photos[0]).save(source / "one more.jpg")
    few = CliRunner().invoke(cli, ["p", str(source), str(out), "--workers", "2"], catch_exceptions=False)
    assert (many.exit_code, few.exit_code, asked) == (0, 0, [2])
    for name in ("0", "1", "2", "3", f"{LANES_PAY_OFF - 1}", "one more"):
        assert (out / f"{name}.png").read_bytes() == cleancut.remove((source / f"{name}.jpg").read_bytes(), session=session)


def test_folder_mode_reports_outputs_it_cannot_write_or_would_overwrite(tmp_path, model_path):
    source, out = tmp_path / "in", tmp_path / "out"
    (source / "sub").mkdir(parents=True)
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(source / "sub" / "a.png")
    for name in ("b.jpg", "b.png", "c.png", "d.jpg", "d.png", "d.webp"):  # b.* would both make b.png, d.* all d.png
        Image.fromarray(np.full((24, 16, 3), 40, np.uint8)).save(source / name)
    out.mkdir()
    (out / "sub").write_bytes(b"a file where the output folder should be")
    result = run("p", source, out)
    report = result.stderr.decode()
    assert result.returncode == 1 and "1 cut, 6 failed" in report and "sub/a.png" in report, report
    assert report.count("b.jpg and b.png would both be cut to b.png; rename one") == 2
    assert report.count("d.jpg and d.png and d.webp would all be cut to d.png; rename all but one") == 3
    assert "Traceback" not in report and (out / "sub").read_bytes().startswith(b"a file")
    assert sorted(p.name for p in out.glob("*.png")) == ["c.png"]


def test_folder_watch_picks_up_new_files(tmp_path, model_path):
    import time

    from skimage import data

    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    watcher = subprocess.Popen([sys.executable, "-m", "cleancut", "p", str(source), str(out), "--watch", "--poll", "0.1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1)
        Image.fromarray(data.coffee()[::4, ::4]).save(source / "late.png")
        # A file caught while still being copied (here: half of it) fails, and is cut once it is whole.
        whole = (source / "late.png").read_bytes()
        (source / "copying.png").write_bytes(whole[: len(whole) // 2])
        time.sleep(1)
        (source / "copying.png").write_bytes(whole)
        deadline = time.monotonic() + 60
        while not ((out / "late.png").exists() and (out / "copying.png").exists()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (out / "late.png").exists() and (out / "copying.png").exists()
    finally:
        watcher.terminate()
        watcher.communicate(timeout=30)


def test_frames_mode_round_trip(tmp_path, model_path):
    from skimage import data

    cat = Image.fromarray(data.chelsea())
    frames = np.stack([np.asarray(cat.crop((left, 0, left + 300, 225)).resize((32, 24))) for left in (0, 60, 150)])
    streamed = run("b", 32, 24, stdin=frames.tobytes())
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout.count(b"\x89PNG\r\n\x1a\n") == 3
    numbered = run("b", 32, 24, "-o", tmp_path / "f-%02d.png", stdin=frames.tobytes())
    assert numbered.returncode == 0, numbered.stderr
    for i, frame in enumerate(frames):
        with Image.open(tmp_path / f"f-{i:02d}.png") as image:
            cut = np.asarray(image)
            seen = cut[..., 3] > 0
            assert image.size == (32, 24) and seen.any() and np.array_equal(cut[..., :3][seen], frame[seen])
    as_webp = run("b", 32, 24, "-o", tmp_path / "f-%02d.webp", stdin=frames.tobytes())
    assert as_webp.returncode == 0, as_webp.stderr
    for i in range(3):
        with Image.open(tmp_path / f"f-{i:02d}.webp") as webp, Image.open(tmp_path / f"f-{i:02d}.png") as png:
            assert webp.format == "WEBP" and np.array_equal(np.asarray(webp), np.asarray(png))
    short = run("b", 32, 24, stdin=frames.tobytes()[:-5])
    assert short.returncode == 1 and b"frame 2 is" in short.stderr


def test_frames_mode_refuses_bad_arguments_in_one_line(tmp_path, model_path):
    frame = np.zeros((24, 32, 3), np.uint8).tobytes()
    (tmp_path / "f-1.png").write_bytes(b"keep")
    cases = [
        (["b", 32, 24, "-bgc", 1, 2, 3, 999], b"bgcolor"),
        (["b", 32, 24, "-o", tmp_path / "f.png"], b"%d-style"),
        (["b", 32, 24, "-o", tmp_path / "f-%d-%s.png"], b"%d-style"),
        (["b", 100_000, 100_000], b"over the limit"),  # refused before reading 30 GB of stdin
        (["b", 32, 24, "--max-pixels", 100], b"over the limit"),
        (["b", 32, 24, "-o", tmp_path / "f-%d.png"], b"f-1.png exists; pass --force"),
        (["b", 32, 24, "-o", tmp_path / "f-%d.jpg"], b"JPEG has no transparency"),
    ]
    for args, message in cases:
        result = run(*args, stdin=frame * 2)
        assert result.returncode == 1 and message in result.stderr, (args, result.stderr)
        assert result.stderr.decode().count("\n") == 1 and result.stderr.startswith(b"cleancut: error:")
    assert (tmp_path / "f-1.png").read_bytes() == b"keep"
    forced = run("b", 32, 24, "-o", tmp_path / "f-%d.png", "--force", stdin=frame * 2)
    assert forced.returncode == 0
    with Image.open(tmp_path / "f-1.png") as written:
        assert written.size == (32, 24)


def test_quantize_refuses_a_rembg_model_of_another_family_in_one_line(model_path, tmp_path):
    """Its reduced precision is made and judged with U²-Net's input; an ISNet under rembg's name is refused."""
    isnet = tmp_path / "isnet-general-use.onnx"
    isnet.write_bytes(model_path.read_bytes())
    result = run("quantize", "-m", isnet)
    assert result.returncode != 0
    message = result.stderr.decode().strip()
    assert message.count("\n") == 0 and "makes reduced precision for U²-Net's family" in message and "isnet-general-use" in message


def test_rembg_extras_run_a_model_file_as_the_named_kind(photo, tmp_path, model_path):
    """rembg's `-m u2net_custom -x '{"model_path": ...}'`: the file, run as that kind of model (dis_custom:
    mean 0.5, std 1, so another mask from the same file)."""
    import json

    extras = json.dumps({"model_path": str(model_path)})
    outputs = {}
    for name, args in {"path": ["-m", model_path], "u2net_custom": ["-m", "u2net_custom", "-x", extras],
                       "dis_custom": ["-m", "dis_custom", "-x", extras]}.items():
        out = tmp_path / f"{name}.png"
        result = run(photo, out, "-om", *args)
        assert result.returncode == 0, result.stderr
        outputs[name] = np.asarray(Image.open(out))
    assert np.array_equal(outputs["u2net_custom"], outputs["path"])
    assert np.abs(outputs["dis_custom"].astype(int) - outputs["path"]).mean() > 0.1  # 0.87 here: u2netp shrugs off much of it
    for bad in ("{model_path", '{"model_path": 3}', '{"sam_prompt": []}', "[]"):
        result = run(photo, tmp_path / "bad.png", "-x", bad)
        assert result.returncode != 0 and result.stderr.decode().strip().count("\n") == 0 and "-x/--extras" in result.stderr.decode()
