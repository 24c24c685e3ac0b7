"""A content-addressed LRU cache of results, bounded by the bytes it holds."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict


def content_key(data: bytes, options: str) -> str:
    """blake2b of the input bytes and the canonical options that change the output."""
    digest = hashlib.blake2b(data, digest_size=20)
    digest.update(b"\0" + options.encode())
    return digest.hexdigest()


class ResultCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = self.hits = self.misses = 0
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return  # also covers max_bytes == 0: the cache is off
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = value
            self.bytes += len(value)
            while self.bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.bytes -= len(evicted)
