"""Command line: ``cleancut IN OUT`` (also ``cleancut i IN OUT``), ``cleancut models fetch``,
``cleancut capabilities``. Errors end with a one-line message and a non-zero exit status."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__, capabilities, models
from .errors import CleancutError
from .files import write_atomically

COMMANDS = ("i", "models", "capabilities")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cleancut", description="Remove image backgrounds with U²-Net.")
    parser.add_argument("--version", action="version", version=f"cleancut {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    cut = sub.add_parser("i", help="cut one image: cleancut [i] IN OUT ('-' for stdin/stdout)")
    cut.add_argument("input")
    cut.add_argument("output")
    cut.add_argument("-m", "--model", default=models.DEFAULT_MODEL, help="model name or path to an .onnx file")
    cut.add_argument("-om", "--only-mask", action="store_true", help="write the alpha mask only")
    cut.add_argument("-ppm", "--post-process-mask", action="store_true", help="rembg's binary post-processing")
    cut.add_argument("-bgc", "--bgcolor", type=int, nargs=4, metavar=("R", "G", "B", "A"), help="background colour")
    cut.add_argument("--max-side", type=int, help="downscale first so the long side is at most this")
    cut.add_argument("--erode", type=int, default=0, help="erode the alpha by this radius")
    cut.add_argument("--dilate", type=int, default=0, help="dilate the alpha by this radius")
    cut.add_argument("--edge-blur", type=float, default=0.0, help="Gaussian sigma for the edge band")
    cut.add_argument("-f", "--force", action="store_true", help="overwrite OUT if it exists")

    model_cmd = sub.add_parser("models", help="manage model files")
    model_cmd.add_argument("action", choices=["fetch", "path"], help="fetch the default model / print its path")

    sub.add_parser("capabilities", help="print which kernels and backends this machine runs")
    return parser


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise CleancutError(f"cannot read {path}: {e.strerror or e}") from e


def _write(path: str, data: bytes, source: str, force: bool) -> None:
    if path == "-":
        sys.stdout.buffer.write(data)
        return
    target = Path(path)
    if source != "-" and target.exists() and target.resolve() == Path(source).resolve():
        raise CleancutError(f"refusing to overwrite the input {source}")
    if target.exists() and not force:
        raise CleancutError(f"{path} exists; pass --force to overwrite it")
    write_atomically(target, data)


def _cut(args: argparse.Namespace) -> None:
    from .api import remove
    from .session import default_session, new_session

    session = default_session() if args.model == models.DEFAULT_MODEL else new_session(args.model)
    result = remove(
        _read(args.input),
        session=session,
        only_mask=args.only_mask,
        post_process_mask=args.post_process_mask,
        bgcolor=args.bgcolor,
        max_side=args.max_side,
        erode_radius=args.erode,
        dilate_radius=args.dilate,
        edge_blur=args.edge_blur,
    )
    _write(args.output, result, args.input, args.force)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and (argv[0] == "-" or not argv[0].startswith("-")):
        argv.insert(0, "i")  # `cleancut IN OUT` is `cleancut i IN OUT`
    args = _parser().parse_args(argv)
    try:
        if args.command == "i":
            _cut(args)
        elif args.command == "models":
            path = models.default_model_path(download=args.action == "fetch")
            print(path)
        else:
            print(json.dumps(capabilities(), indent=2))
    except (CleancutError, NotImplementedError) as e:
        print(f"cleancut: error: {e}", file=sys.stderr)
        return 1
    return 0
