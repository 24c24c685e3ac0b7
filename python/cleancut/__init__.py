"""cleancut: background removal with U²-Net, rembg-compatible and faster.

>>> from cleancut import remove
>>> png = remove(open("photo.jpg", "rb").read())
"""

from __future__ import annotations

from . import errors, refine
from . import _native
from .api import remove, remove_batch
from .errors import CleancutError, ImageDecodeError, ImageTooLargeError, InvalidInputError, ModelError
from .session import Session, new_session

__version__ = "0.1.0"

__all__ = [
    "CleancutError",
    "ImageDecodeError",
    "ImageTooLargeError",
    "InvalidInputError",
    "ModelError",
    "Session",
    "capabilities",
    "errors",
    "new_session",
    "refine",
    "remove",
    "remove_batch",
]


def capabilities() -> dict:
    """Which kernel ISA runs (``isa``), which this CPU could run (``available``), which the build
    has (``compiled``), and which inference runtimes are installed (``runtimes``)."""
    from .backends import _versions

    return {
        "isa": _native.active.isa,
        "available": list(_native.available_isas),
        "compiled": list(_native.compiled_isas),
        "runtimes": _versions(),
    }
