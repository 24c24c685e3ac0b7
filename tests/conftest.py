import os

import numpy as np
import pytest

from cleancut import _native, models

SIMD_ISAS = [isa for isa in _native.available_isas if isa != "scalar"]
# The sizes every kernel is checked at: 1, around vector widths, and their tails.
EDGE_SIZES = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65]


@pytest.fixture(scope="session")
def model_path():
    """The real u2netp, fetched into the cache once (CLEANCUT_HOME or the user cache dir)."""
    path = models.default_model_path()
    # rembg looks for its models under U2NET_HOME; point it at ours so it never downloads.
    os.environ["U2NET_HOME"] = str(path.parent)
    return path


@pytest.fixture(scope="session")
def session(model_path):
    from cleancut.session import default_session

    return default_session()


def strided(array: np.ndarray, pad: int = 5) -> np.ndarray:
    """The same pixels as a view with padded rows (a non-contiguous array)."""
    shape = (array.shape[0], array.shape[1] + pad) + array.shape[2:]
    base = np.zeros(shape, array.dtype)
    base[:, : array.shape[1]] = array
    view = base[:, : array.shape[1]]
    assert not view.flags.c_contiguous or array.shape[0] == 1
    return view


def summed_taps(taps, bias):
    """A 3x3 convolution to one channel from its nine taps (see fuse_side_maps): the sum over
    (dy, dx) of tap dy*3+dx shifted by (dy - 1, dx - 1), zero outside, in float64."""
    height, width = taps.shape[1:]
    padded = np.zeros((9, height + 2, width + 2))
    padded[:, 1:-1, 1:-1] = taps
    return bias + sum(padded[dy * 3 + dx, dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3))


def photos():
    """Real photos shipped with scikit-image (no downloads)."""
    from skimage import data

    names = ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina", "hubble_deep_field"]
    return {name: getattr(data, name)() for name in names}


class BatchSizes:
    """A backend stand-in that records the batch sizes it is given (and runs ``backend``, if any)."""

    def __init__(self, name: str, backend=None):
        self.name, self.sizes, self._backend = name, [], backend

    def infer(self, batch):
        self.sizes.append(len(batch))
        return self._backend.infer(batch) if self._backend else np.zeros((len(batch), 320, 320), np.float32)
