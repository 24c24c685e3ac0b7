"""File helpers shared by the model cache, the CLI and the desktop app."""

from __future__ import annotations

import json
import mmap
import os
import tempfile
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


# Read once, at import: os.umask can only be read by setting it, for the whole process (to the
# strictest value meanwhile, so nothing made in that instant is more open than it should be).
_UMASK = os.umask(0o077)
os.umask(_UMASK)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (made if missing) for the block, against other
    processes and threads, where the platform has flock and the folder can be written; elsewhere
    the block runs unlocked."""
    try:
        import fcntl

        handle = open(path, "a")
    except (ImportError, OSError):
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:  # a file system without locks (some network mounts): go on unlocked
            pass
        yield


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder and rename it into place, so a failed or
    interrupted write never leaves a half-written file (or destroys the old one). The file gets
    the permissions a plain write would give (the replaced file's, else 0666 less the umask), not
    the temporary file's 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def install_ir(staged: Path, weights: Path, target: Path) -> None:
    """Move an OpenVINO IR made in a scratch folder (``staged`` .xml, ``weights`` .bin) to ``target``
    on the same file system, recorded (``record``): the weights first, so an .xml that exists
    always has its weights."""
    os.replace(weights, target.with_suffix(".bin"))
    os.replace(staged, target)
    record(target.with_suffix(".bin"), target)


def _record_file(path: Path) -> Path:
    return path.with_name(f"{path.name}.crc32")


def _fingerprint(path: Path) -> str:
    """The file's size and CRC-32, read through a memory map: no copy of a big network (U²-Net's
    170 MB graph: 46 ms from the page cache; u2netp's: 1.3 ms)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:  # mmap refuses empty files
            return "0 00000000"
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return f"{size} {zlib.crc32(view):08x}"


def record(*paths: Path) -> None:
    """Note, beside each file, what it holds now, for ``intact`` to check later."""
    for path in paths:
        write_atomically(_record_file(path), _fingerprint(path).encode())


def intact(path: Path, what: str, remedy: str) -> bool:
    """Whether the cache file ``path`` still holds what ``record`` noted. Missing: False. Changed
    since (a copy cut short, a full disk, an edit) or never recorded: False with a warning that
    names it and says ``remedy``; a damaged cache is never a reason to fail."""
    if not path.is_file():
        return False
    try:
        if _record_file(path).read_text() == _fingerprint(path):
            return True
        reason = "it is not what cleancut wrote there"
    except FileNotFoundError:
        reason = "there is no record of what cleancut wrote there"
    except (OSError, ValueError) as e:  # ValueError: a record that is not text
        reason = str(e)
    warnings.warn(f"ignoring the damaged {what} {path} ({reason}): {remedy}", RuntimeWarning, stacklevel=3)
    return False


def read_json_object(path: Path, what: str) -> dict:
    """A JSON object kept in the cache folder; {} when the file is missing, and {} with a warning
    when it is unreadable (a cache is rebuilt, never a reason to fail)."""
    if not path.is_file():
        return {}
    try:
        stored = json.loads(path.read_text())
        if not isinstance(stored, dict):
            raise ValueError("not a JSON object")
    except (ValueError, OSError) as e:
        warnings.warn(f"ignoring the unreadable {what} {path} ({e})", RuntimeWarning, stacklevel=3)
        return {}
    return stored


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def image_files(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursively, by suffix, hidden files skipped), sorted."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file())


def cut_outputs(sources: list[Path], root: Path, out_dir: Path) -> tuple[dict[Path, Path], dict[Path, str]]:
    """Each source's cut-out file (under ``out_dir``, same tree as under ``root``, .png), and why
    the others are left out: outside ``root`` (no place in the tree), or sharing a file with
    another source (a.jpg and a.png both make a.png: one cut-out would overwrite the other)."""
    by_target: dict[Path, list[Path]] = {}
    refused = {}
    for source in sources:
        if not source.is_relative_to(root):
            refused[source] = f"not under {root}, so it has no place under {out_dir}"
            continue
        by_target.setdefault(out_dir / source.relative_to(root).with_suffix(".png"), []).append(source)
    outputs = {}
    for target, shared in by_target.items():
        if len(shared) == 1:
            outputs[shared[0]] = target
        else:
            names = " and ".join(sorted(source.name for source in shared))
            clash = "would both be cut to {}; rename one" if len(shared) == 2 else "would all be cut to {}; rename all but one"
            refused.update({source: f"{names} {clash.format(target.name)}" for source in shared})
    return outputs, refused
