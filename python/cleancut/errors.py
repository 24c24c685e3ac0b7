"""cleancut's exceptions. Bad input is always an InvalidInputError (a ValueError)."""

import numbers


class CleancutError(Exception):
    """Base class of every error cleancut raises on purpose."""


class InvalidInputError(CleancutError, ValueError):
    """The data or arguments given to cleancut cannot be used."""


class ImageDecodeError(InvalidInputError):
    """The bytes are not a decodable image (empty, truncated, unknown format)."""


class ImageTooLargeError(InvalidInputError):
    """The image has more pixels than the configured limit."""


class ModelError(CleancutError, RuntimeError):
    """A model file is missing, corrupt or cannot be fetched."""


def checked_number(name: str, value: object, low: float, high: float | None = None, integer: bool = True):
    """``value`` if it is a number (an integer where ``integer``) in ``low..high`` (``high`` None:
    no upper bound); otherwise an InvalidInputError that names the argument."""
    kind = numbers.Integral if integer else numbers.Real
    inside = isinstance(value, kind) and not isinstance(value, bool) and low <= value and (high is None or value <= high)
    if not inside:
        bounds = f">= {low}" if high is None else f"in {low}..{high}"
        raise InvalidInputError(f"{name} must be {'an integer' if integer else 'a number'} {bounds}, got {value!r}")
    return value
