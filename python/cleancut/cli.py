"""Command line (rembg's command names): ``cleancut i IN OUT`` (or just ``cleancut IN OUT``),
``cleancut p IN_DIR OUT_DIR``, ``cleancut b W H``, ``cleancut s``, ``cleancut d``.
Errors end with one ``cleancut: error: ...`` line and a non-zero exit status."""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from . import __version__, capabilities, models
from .decode import DEFAULT_MAX_PIXELS, check_size
from .encode import DEFAULT_COMPRESS_LEVEL, format_for, to_file_format
from .errors import CleancutError
from .files import cut_outputs, image_files, write_atomically

class Fail(click.ClickException):
    def show(self, file=None) -> None:
        click.echo(f"cleancut: error: {self.message}", err=True)


precision_option = click.option(
    "--precision", type=click.Choice(["fp32", "fast"]), default="fp32", show_default=True,
    help="fast: the fastest reduced-precision backend `cleancut quantize` measured (its error is printed)")


def cut_options(command):
    """The options every cutting command shares."""
    for option in reversed([
        click.option("-m", "--model", default=models.DEFAULT_MODEL, show_default=True, help="model name or path to an .onnx file"),
        click.option("-x", "--extras", metavar="JSON", help='rembg\'s extras: {"model_path": "..."} runs that file as --model\'s kind'),
        precision_option,
        click.option("-om", "--only-mask", is_flag=True, help="write the alpha mask only"),
        click.option("-ppm", "--post-process-mask", is_flag=True, help="rembg's binary mask post-processing"),
        click.option("-bgc", "--bgcolor", type=(int, int, int, int), default=None, metavar="R G B A", help="background colour"),
        click.option("--max-side", type=click.IntRange(min=1), help="downscale first so the long side is at most this"),
        click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS, show_default=True,
                     help="refuse larger images before decoding them"),
        click.option("--erode", type=click.IntRange(0, 64), default=0, help="erode the alpha by this radius"),
        click.option("--dilate", type=click.IntRange(0, 64), default=0, help="dilate the alpha by this radius"),
        click.option("--edge-blur", type=click.FloatRange(0, 32), default=0.0, help="Gaussian sigma for the edge band"),
        click.option("-rf", "--refine-foreground", is_flag=True, help="correct edge colours (no halo of the old background)"),
        click.option("-a", "--alpha-matting", is_flag=True, help="alpha matting of the edge band (implies -rf)"),
        click.option("-af", "--alpha-matting-foreground-threshold", type=click.IntRange(0, 255), default=240, show_default=True,
                     help="trimap: sure foreground above this"),
        click.option("-ab", "--alpha-matting-background-threshold", type=click.IntRange(0, 255), default=10, show_default=True,
                     help="trimap: sure background below this"),
        click.option("-ae", "--alpha-matting-erode-size", type=click.IntRange(0, 128), default=10, show_default=True,
                     help="trimap: shrink the sure regions by this"),
        click.option("--compress-level", type=click.IntRange(0, 9), default=DEFAULT_COMPRESS_LEVEL, show_default=True,
                     help="PNG: 0..2 fast (ISA-L), 3..9 smaller and slower (zlib-ng)"),
    ]):
        command = option(command)
    return command


def remove_keywords(only_mask, post_process_mask, bgcolor, max_side, erode, dilate, edge_blur, **rest) -> dict:
    """The shared command-line options as remove()'s keywords."""
    return {"only_mask": only_mask, "post_process_mask": post_process_mask, "bgcolor": bgcolor, "max_side": max_side,
            "erode_radius": erode, "dilate_radius": dilate, "edge_blur": edge_blur, **rest}


def output_format(path: str, options: dict) -> str:
    """The format an output path names (encode.format_for; PNG for stdout), checked before any work:
    JPEG cannot hold a cut-out's transparency, only a mask or a cut-out on an opaque background."""
    try:
        file_format = "PNG" if path == "-" else format_for(path)
    except CleancutError as e:
        raise Fail(str(e)) from None
    bgcolor = options["bgcolor"]
    if file_format == "JPEG" and not options["only_mask"] and (bgcolor is None or bgcolor[3] != 255):
        raise Fail(f"{path}: JPEG has no transparency; write .png or .webp, or fill the background with --bgcolor R G B 255")
    return file_format


def model_path_of(extras: str | None) -> str | None:
    """The model file rembg's -x/--extras JSON names (rembg's custom sessions: -m u2net_custom -x
    '{"model_path": ...}'), or None without extras."""
    if extras is None:
        return None
    try:
        values = json.loads(extras)
    except json.JSONDecodeError as e:
        raise Fail(f"-x/--extras is not JSON: {e}") from None
    if not isinstance(values, dict) or set(values) != {"model_path"} or not isinstance(values["model_path"], str):
        raise Fail('-x/--extras takes {"model_path": "/path/to/model.onnx"} only (rembg\'s other extras are for models cleancut does not run)')
    return os.path.expanduser(values["model_path"])


class Cutter:
    """bytes or an RGB array -> an image file in ``file_format`` (PNG: cleancut's encoder, at
    --compress-level) with the given options, on the model's session (loaded once) or one of its
    lanes (``session.lanes``)."""

    def __init__(self, model, precision, extras=None, file_format="PNG", **options) -> None:
        from .session import session_for

        try:
            self.session = session_for(model, precision, model_path_of(extras))
        except CleancutError as e:
            raise Fail(str(e)) from None
        self._format, self._keywords = file_format, remove_keywords(**options)

    def __call__(self, data, lane=None) -> bytes:
        from .api import remove
        from .decode import decode_image

        session, keywords = lane or self.session, self._keywords
        if self._format == "PNG":
            return remove(data, session=session, force_return_bytes=True, **keywords)
        # remove() returns an array for an array; decoded as remove() decodes bytes, downscaling included
        image = decode_image(data, max_pixels=keywords["max_pixels"], max_side=keywords["max_side"])
        return to_file_format(remove(image.pixels, session=session, **keywords), self._format, image.icc_profile)


def write_output(path: Path, data: bytes, force: bool) -> None:
    """Write a result file; an existing file is kept unless ``force``, a failed write is one line."""
    if path.exists() and not force:
        raise Fail(f"{path} exists; pass --force to overwrite it")
    try:
        write_atomically(path, data)
    except OSError as e:
        raise Fail(f"cannot write {path}: {e.strerror or e}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cleancut")
def cli() -> None:
    """Remove image backgrounds with U²-Net. `cleancut IN OUT` is short for `cleancut i IN OUT`."""


@cli.command("i")
@click.argument("input", type=click.Path(allow_dash=True))
@click.argument("output", type=click.Path(allow_dash=True))
@click.option("-f", "--force", is_flag=True, help="overwrite OUTPUT if it exists")
@cut_options
def cut_one(input, output, force, **options):
    """Cut one image ('-' for stdin / stdout). OUTPUT's suffix picks the format: .png (also without
    a suffix, and on stdout), .webp and .tif (lossless), or .jpg (a mask, or with an opaque --bgcolor)."""
    source, target = Path(input), Path(output)
    if output != "-" and input != "-" and target.exists() and target.resolve() == source.resolve():
        raise Fail(f"refusing to overwrite the input {input}")
    if output != "-" and target.exists() and not force:
        raise Fail(f"{output} exists; pass --force to overwrite it")  # before the work, not only after it
    file_format = output_format(output, options)
    try:
        data = sys.stdin.buffer.read() if input == "-" else source.read_bytes()
    except OSError as e:
        raise Fail(f"cannot read {input}: {e.strerror or e}") from None
    try:
        cut_out = Cutter(file_format=file_format, **options)(data)
    except CleancutError as e:
        raise Fail(str(e)) from None
    if output == "-":
        sys.stdout.buffer.write(cut_out)
    else:
        write_output(target, cut_out, force)


def _pending(in_dir: Path, out_dir: Path) -> tuple[list[tuple[Path, Path]], dict[Path, str]]:
    """(input, output) pairs whose output does not exist yet (outputs inside in_dir are not
    inputs), and why inputs that would share an output are left out (see files.cut_outputs)."""
    out_resolved = out_dir.resolve()
    inside = [path for path in image_files(in_dir) if out_resolved not in path.resolve().parents]
    outputs, refused = cut_outputs(inside, in_dir, out_dir)
    return [(source, target) for source, target in outputs.items() if not target.exists()], refused


@cli.command("p")
@click.argument("in_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-w", "--watch", is_flag=True, help="keep running and cut new files as they appear")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="images in flight at once (from 32 images on: at most one per core, each on a network of its own)")
@click.option("--poll", type=click.FloatRange(0.05), default=1.0, show_default=True, help="seconds between scans with --watch")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="ray: Ray Data actors")
@click.option("--address", help="with --engine ray: an existing cluster (default: start a local Ray)")
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True, help="with --engine ray: images per batch")
@cut_options
def cut_folder(in_dir, out_dir, watch, workers, poll, engine, address, batch_size, **options):
    """Cut every image under IN_DIR into OUT_DIR (same tree, .png); skips images already done."""
    from tqdm import tqdm

    if in_dir.resolve() == out_dir.resolve():
        raise Fail("OUT_DIR must differ from IN_DIR (inputs are never overwritten)")
    if engine == "ray":
        if watch:
            raise Fail("--watch is not available with --engine ray")
        _cut_folder_with_ray(in_dir, out_dir, address, batch_size, workers, **options)
        return
    cut = Cutter(**options)
    # A failed file is retried once it changes: with --watch, a scan can catch a file still being
    # written (a truncated image), and it must not stay failed when the copy completes.
    failures: dict[Path, tuple[str, tuple[int, int] | None]] = {}
    finished: list[Path] = []
    lock = threading.Lock()

    def one(pair: tuple[Path, Path], lane) -> None:
        source, target = pair
        version = _version(source)
        try:
            write_atomically(target, cut(source.read_bytes(), lane))
        except (CleancutError, OSError) as e:
            with lock:
                failures[source] = (str(e), version)
            return
        with lock:
            failures.pop(source, None)
            finished.append(source)

    def drain(pairs, bar, lane) -> None:
        while (pair := next_of(pairs, lock)) is not None:
            one(pair, lane)
            with lock:
                bar.update()

    with ThreadPoolExecutor(workers) as pool:
        while True:
            pairs, refused = _pending(in_dir, out_dir)
            pending = [pair for pair in pairs if pair[0] not in failures or failures[pair[0]][1] != _version(pair[0])]
            if pending:
                # Many images: a worker per lane, each taking the next image, as remove_batch runs them
                # (2 cores, 2048² photos: 52-55 ms per image, 59-65 with two workers sharing the
                # session). Making the lanes' networks took 0.27 s, more than 24 photos gained.
                lanes = cut.session.lanes(min(workers, len(pending))) if len(pending) >= LANES_PAY_OFF else [cut.session] * workers
                with tqdm(total=len(pending), unit="img", disable=None, file=sys.stderr) as bar:
                    list(pool.map(functools.partial(drain, iter(pending), bar), lanes))
            if not watch:
                break
            time.sleep(poll)
    _report(len(finished), {**refused, **{path: message for path, (message, _) in failures.items()}})


LANES_PAY_OFF = 32  # images in a folder run from which its workers get lanes of their own


def next_of(items, lock: threading.Lock):
    """The next of an iterator several threads share, or None."""
    with lock:
        return next(items, None)


def _version(path: Path) -> tuple[int, int] | None:
    """What tells a file's versions apart: (mtime in ns, size); None if it is gone."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _cut_folder_with_ray(in_dir, out_dir, address, batch_size, workers, model, precision, extras, **options):
    import ray

    from .ray import cut_files

    pending, refused = _pending(in_dir, out_dir)
    if address:
        ray.init(address=address)
    options = remove_keywords(**options)
    failures = cut_files([source for source, _ in pending], in_dir, out_dir, model=model, model_path=model_path_of(extras),
                         precision=precision, batch_size=batch_size, concurrency=workers, **options)
    _report(len(pending) - len(failures), {**refused, **failures})


def _report(cut: int, failures: dict) -> None:
    """Folder mode's summary on stderr; exit status 1 when any file failed."""
    click.echo(f"{cut} cut, {len(failures)} failed", err=True)
    for path, message in failures.items():
        click.echo(f"  {path}: {message}", err=True)
    if failures:
        raise SystemExit(1)


def _check_numbered(pattern: str) -> None:
    """Refuse an --output pattern that does not give each frame its own name."""
    try:
        distinct = pattern % 0 != pattern % 1
    except (TypeError, ValueError):
        distinct = False
    if not distinct:
        raise Fail(f"--output needs one %d-style number in it, e.g. out-%04d.png; got {pattern!r}")


@cli.command("b")
@click.argument("width", type=click.IntRange(1))
@click.argument("height", type=click.IntRange(1))
@click.option("-o", "--output", "pattern", help="numbered files, e.g. out-%04d.png (.webp, .tif, .jpg too; default: PNGs to stdout)")
@click.option("-f", "--force", is_flag=True, help="overwrite numbered files that exist")
@cut_options
def cut_frames(width, height, pattern, force, **options):
    """Cut raw RGB24 frames of WIDTHxHEIGHT read from stdin (e.g. ffmpeg -f rawvideo -pix_fmt rgb24)."""
    import numpy as np

    if pattern is not None:
        _check_numbered(pattern)
    file_format = output_format(pattern or "-", options)
    try:
        check_size(width, height, options["max_pixels"])  # before reading a frame of that size
    except CleancutError as e:
        raise Fail(str(e)) from None
    cut = Cutter(file_format=file_format, **options)
    frame_bytes = width * height * 3
    index = 0
    while True:
        frame = sys.stdin.buffer.read(frame_bytes)
        if not frame:
            break
        if len(frame) != frame_bytes:
            raise Fail(f"frame {index} is {len(frame)} bytes; a {width}x{height} RGB24 frame is {frame_bytes}")
        try:
            cut_out = cut(np.frombuffer(frame, np.uint8).reshape(height, width, 3))
        except CleancutError as e:
            raise Fail(f"frame {index}: {e}") from None
        if pattern is None:
            sys.stdout.buffer.write(cut_out)
            sys.stdout.buffer.flush()
        else:
            write_output(Path(pattern % index), cut_out, force)
        index += 1


@cli.command("s")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to bind (0.0.0.0 for all)")
@click.option("--port", type=click.IntRange(0, 65535), default=7000, show_default=True)
@click.option("--max-batch", type=click.IntRange(1, 64), default=4, show_default=True, help="requests run as one batch (one inference on a GPU; CPUs take the images one at a time)")
@click.option("--max-wait-ms", type=click.FloatRange(0, 1000), default=5.0, show_default=True, help="how long a batch waits to fill")
@click.option("--workers", type=click.IntRange(1), show_default="one per core", help="batches run side by side (on a CPU each holds a network of its own)")
@click.option("--queue", "max_queue", type=click.IntRange(1), default=64, show_default=True, help="requests waiting before 503")
@click.option("--cache-mb", type=click.IntRange(0), default=256, show_default=True, help="result cache size (0: off)")
@click.option("--max-upload-mb", type=click.IntRange(1), default=32, show_default=True)
@click.option("--max-pixels", type=click.IntRange(1), default=DEFAULT_MAX_PIXELS, show_default=True)
@click.option("--api-key", envvar="CLEANCUT_API_KEY", help="require this X-API-Key header")
@click.option("--allow-url", is_flag=True, help="allow GET /api/remove?url=... (the server fetches URLs)")
@click.option("-m", "--model", default=models.DEFAULT_MODEL, show_default=True)
@precision_option
def serve(host, port, max_batch, max_wait_ms, workers, max_queue, cache_mb, max_upload_mb, max_pixels, api_key, allow_url, model, precision):
    """Run the HTTP API and the WebUI."""
    import uvicorn

    from .server import ServerConfig, create_app
    from .session import session_for

    try:
        session = session_for(model, precision)
    except CleancutError as e:
        raise Fail(str(e)) from None
    config = ServerConfig(max_upload_bytes=max_upload_mb << 20, max_pixels=max_pixels, max_batch=max_batch, max_wait_ms=max_wait_ms,
                          max_queue=max_queue, cache_bytes=cache_mb << 20, api_key=api_key, allow_url=allow_url, workers=workers)
    uvicorn.run(create_app(config, session), host=host, port=port, log_level="warning")


@cli.command("d")
def download() -> None:
    """Fetch the default model ahead of time and print its path."""
    try:
        click.echo(models.default_model_path())
    except CleancutError as e:
        raise Fail(str(e)) from None


@cli.command("models")
@click.argument("action", type=click.Choice(["fetch", "path"]))
def models_command(action) -> None:
    """`fetch`: make sure the default model is cached; `path`: print where it is (no download)."""
    try:
        click.echo(models.default_model_path(download=action == "fetch"))
    except CleancutError as e:
        raise Fail(str(e)) from None


@cli.command("backends")
@click.option("--threads", type=click.IntRange(1), default=None, help="threads per inference (default: all cores)")
def backends_command(threads) -> None:
    """Time every inference backend auto-selection may pick here on the default model, per image as
    cleancut runs it: a CPU backend on all the threads, then on half as many while that is faster
    (fastest first)."""
    from . import backends, precision

    threads = threads or backends.usable_cpus()
    try:
        graph = models.prepared_graph(models.default_model_path())
    except CleancutError as e:
        raise Fail(str(e)) from None
    table = backends.measure(graph, threads, (320, 320), backends.candidates(precision.qualified(graph)))
    for timing in sorted(table, key=lambda t: (t.median_ms is None, t.median_ms or 0)):
        shown = f"{timing.threads:3d} threads {timing.median_ms:8.1f} ms/image" if timing.median_ms is not None else "   unavailable"
        click.echo(f"{timing.backend:22s} {shown}  {timing.note}")
    if not precision.load_verdicts(graph):
        click.echo("reduced precision is not measured on this machine yet: `cleancut quantize` measures it, and "
                   f"auto-selection then also considers what keeps the mask within {precision.MAX_MAE:g}/255 of fp32")


@cli.command("quantize")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="photos: every other one calibrates (bf16 islands, INT8), the rest measure the error (default: scikit-image's samples)")
@click.option("-m", "--model", default=models.DEFAULT_MODEL, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=None, help="threads per inference (default: all cores)")
def quantize_command(images, model, threads) -> None:
    """Make the bf16 and INT8 networks and measure every reduced-precision backend against fp32 here."""
    from . import backends, precision
    from .decode import decode

    if images:
        try:
            photos = [decode(path.read_bytes(), max_side=1024) for path in image_files(images)]
        except (OSError, CleancutError) as e:
            raise Fail(f"cannot read the photos in {images}: {e}") from None
        calibration, held_out = photos[::2], photos[1::2]
    else:
        calibration, held_out = precision.sample_photos()
    if len(held_out) < 2:
        raise Fail("need at least 4 photos: pass --images DIR (or install scikit-image for its sample photos)")
    threads = threads or backends.usable_cpus()
    try:
        name, path = models.resolve(model)
        if models.conventions(name) != models.Conventions():
            raise Fail(f"cleancut quantize makes reduced precision for U²-Net's family (u2net, u2netp, silueta, "
                       f"u2net_human_seg or your own), not rembg's {name!r}")
        graph = models.prepared_graph(path)
        made = None
        try:
            made = precision.make_networks(graph, calibration, (320, 320), threads)
        except backends.BackendUnavailable as e:
            click.echo(f"bf16 and INT8 skipped: {e}", err=True)
        verdicts = precision.evaluate(graph, threads, held_out, (320, 320))
    except CleancutError as e:
        raise Fail(str(e)) from None
    precision.save(graph, verdicts)
    click.echo(f"each against its fp32 backend, on {len(held_out)} held-out photos; auto-selection bound: "
               f"mask error <= {precision.MAX_MAE:g}/255 on each")
    for v in verdicts:
        if v.median_ms is None:
            click.echo(f"{v.backend:22s} unavailable: {v.note}")
        else:
            verdict = ("qualifies for auto-selection" if v.qualifies else "precision='fast' only"
                       if v.mae_mean <= precision.FAST_MAX_MEAN_MAE else "unusable")
            click.echo(f"{v.backend:22s} {v.median_ms:7.1f} ms  {v.speedup:4.2f}x {backends.FP32_OF[v.backend]}  "
                       f"MAE mean {v.mae_mean:5.2f}  worst {v.mae_max:5.2f}  {verdict}")
    if made is not None:
        if made.kept_fp32 is not None:
            click.echo(f"bf16 network: {len(made.kept_fp32)} convolutions kept in fp32 (the mask is sensitive to them): "
                       f"{', '.join(made.kept_fp32)}")
        click.echo(f"INT8 network: {len(made.int8)} convolutions in INT8 (the heaviest the mask tolerates): {', '.join(made.int8)}")


@cli.command("bench")
@click.option("--sizes", default="512,1024,2048", show_default=True, help="square image sides, comma-separated")
@click.option("--rounds", type=click.IntRange(1, 100), default=5, show_default=True, help="timed runs per size (median)")
@click.option("--no-rembg", is_flag=True, help="time cleancut only")
@click.option("-m", "--model", default=models.DEFAULT_MODEL, show_default=True)
@precision_option
def bench_command(sizes, rounds, no_rembg, model, precision) -> None:
    """Time bytes->PNG cuts here, one at a time and through remove_batch, beside rembg when it is
    installed (same inputs, same process)."""
    from . import bench
    from .backends import cpu_model
    from .session import session_for

    try:
        sides = [int(side) for side in sizes.split(",")]
    except ValueError:
        raise Fail(f"--sizes must be integers separated by commas, got {sizes!r}") from None
    if not all(1 <= side <= 8192 for side in sides):
        raise Fail("--sizes must be in 1..8192")
    try:
        session = session_for(model, precision)
        timings = bench.run(sides, rounds, session, model, with_rembg=not no_rembg)
    except CleancutError as e:
        raise Fail(str(e)) from None
    click.echo(f"CPU: {cpu_model()} | kernels: {capabilities()['isa']} | backend: {session.backend} | median of {rounds}")
    click.echo(f"{'size':>11}  {'cleancut':>10}  {'per image in remove_batch':>26}  {'rembg':>10}  speed-up")
    for t in timings:
        theirs = f"{t.rembg_ms:8.1f}ms" if t.rembg_ms is not None else "   (not installed)"
        ratio = f"{t.ratio:.2f}x" if t.ratio is not None else "-"
        batch = f"{t.batch_ms:8.1f}ms ({t.cleancut_ms / t.batch_ms:.2f}x)"
        click.echo(f"{t.size:>5}x{t.size:<5}  {t.cleancut_ms:8.1f}ms  {batch:>26}  {theirs:>10}  {ratio}")


@cli.command("gui")
def gui_command() -> None:
    """Open the desktop app (needs the gui extra: pip install 'cleancut[gui]')."""
    try:
        from .gui import main as run_gui
    except ImportError as e:
        raise Fail(f"the desktop app needs PySide6: pip install 'cleancut[gui]' ({e})") from None
    raise SystemExit(run_gui())


@cli.command("capabilities")
def capabilities_command() -> None:
    """Print which kernels this machine runs."""
    click.echo(json.dumps(capabilities(), indent=2))


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"cleancut: warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning  # a user of the command needs the message, not our source line
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in cli.commands and (argv[0] == "-" or not argv[0].startswith("-")):
        argv.insert(0, "i")
    try:
        cli.main(argv, prog_name="cleancut", standalone_mode=False)
    except click.ClickException as e:
        e.show()
        return 1 if isinstance(e, Fail) else 2
    except click.exceptions.Abort:
        return 130
    except SystemExit as e:
        return int(e.code or 0)
    return 0
