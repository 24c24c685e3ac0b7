"""cleancut's exceptions. Bad input is always an InvalidInputError (a ValueError)."""


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
