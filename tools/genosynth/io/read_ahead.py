"""Iterating a producer in a background thread, a few items ahead of its consumer, so that reading (waiting on a
pipe, decoding in numpy) overlaps with what the consumer does meanwhile (compressing into HDF5)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def read_ahead(items: Iterator[T], *, depth: int = 2) -> Iterator[T]:
    """Yield what ``items`` yields, computed in a background thread up to ``depth`` items ahead.

    An exception raised by ``items`` is raised here, after the items before it. Closing this generator early
    (the consumer failed or stopped) stops the thread after the item it is computing, and closes ``items``.

    Examples
    --------
    >>> list(read_ahead(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    break
            else:
                put((_DONE, None))
        except BaseException as err:  # handed to the consumer, raised there
            put((_DONE, err))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="genosynth-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()
