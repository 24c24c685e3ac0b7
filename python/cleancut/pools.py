"""Thread pools kept for the life of the process: their threads start once, not on every call."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from .backends import usable_cpus


class KeptPool:
    """One thread per usable CPU, made on first use; a forked child makes its own (it has none of
    the parent's threads). Fresh threads per call also cost memory set-up: a remove_batch of six
    2048² photos on new lane threads took 8,700 page faults (their malloc arenas had been handed
    back to the OS), on kept threads none."""

    def __init__(self, thread_name_prefix: str) -> None:
        self._prefix = thread_name_prefix
        self._forget()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def get(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(usable_cpus(), thread_name_prefix=self._prefix)
            return self._pool


# Bands of one image's rows (PNG filtering and deflate, prepare's resampling) on every core.
BANDS = KeptPool("cleancut-band")
