"""Micro-batching: requests that arrive within a few milliseconds run as one batch on a worker
thread, so one inference serves several images; a bounded queue refuses work instead of growing."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from .errors import CleancutError

Job = TypeVar("Job")
Result = TypeVar("Result")


class QueueFullError(CleancutError):
    """The batcher's queue is full; try again shortly."""


class MicroBatcher(Generic[Job, Result]):
    """Each of ``runners`` (one worker thread each) takes the jobs that arrive together and returns
    one result or exception per job, in order. Several workers overlap one batch's decode and
    encode with another's inference."""

    def __init__(
        self,
        runners: Sequence[Callable[[Sequence[Job]], Sequence[Result | BaseException]]],
        max_batch: int = 8,
        max_wait_ms: float = 5.0,
        max_queue: int = 64,
    ) -> None:
        self.max_batch, self.max_wait = max_batch, max_wait_ms / 1000
        self._queue: queue.Queue[tuple[Job, Future] | None] = queue.Queue(maxsize=max_queue)
        self.batches = self.items = self.largest_batch = 0
        self._counts_lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, args=(run,), name=f"cleancut-batcher-{i}", daemon=True)
                         for i, run in enumerate(runners)]
        for thread in self._threads:
            thread.start()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def submit(self, job: Job) -> Future:
        future: Future = Future()
        try:
            self._queue.put_nowait((job, future))
        except queue.Full:
            raise QueueFullError("the server is busy; retry shortly") from None
        return future

    async def run(self, job: Job) -> Result:
        return await asyncio.wrap_future(self.submit(job))

    def close(self) -> None:
        self._queue.put(None)  # each worker puts it back for the next
        for thread in self._threads:
            thread.join(timeout=10)

    def _collect(self) -> list[tuple[Job, Future]] | None:
        first = self._queue.get()
        if first is None:
            self._queue.put(None)  # the stop signal, for the other workers
            return None
        batch = [first]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # keep the stop signal for the loop
                break
            batch.append(item)
        return batch

    def _loop(self, run_batch: Callable[[Sequence[Job]], Sequence[Result | BaseException]]) -> None:
        while (batch := self._collect()) is not None:
            with self._counts_lock:
                self.batches += 1
                self.items += len(batch)
                self.largest_batch = max(self.largest_batch, len(batch))
            try:
                results = run_batch([job for job, _ in batch])
            except BaseException as e:  # a bug in run_batch must not kill the worker thread
                results = [e] * len(batch)
            for (_, future), result in zip(batch, results):
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
