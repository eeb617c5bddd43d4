"""Reading ahead: the next chunk of a file is read and cleaned while the database writes
the one before it.

Reading and cleaning are Python's work, writing is PostgreSQL's, and they ran one after
the other. In a thread, the cleaning runs while the importer's own thread waits for the
server (the database driver lets go of the interpreter while it waits), so the two
overlap. The queue holds at most `depth` chunks, so memory stays what a few chunks take.
"""

from __future__ import annotations

import itertools
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from common.copy import copy_text

_DONE = object()
# Each time the writing thread gets an answer from the server it must win the interpreter
# back from the cleaning thread, which by default yields it only every 5 ms; a COPY is
# sent in slices of 128 kB, each of which can wait that long.
SWITCH_INTERVAL = 0.0005


@contextmanager
def chunks_read_ahead(
    rows: Iterable[Any], *, size: int, prepare: Callable[[list], Any] = list, depth: int = 2
) -> Iterator[Iterator[Any]]:
    """prepare(chunk) for each chunk of up to `size` rows, both taken from `rows` and
    prepared in a thread of their own (prepare can turn a chunk into COPY's text, say).

    An exception raised while producing the rows (a file that is not UTF-8, say) is
    raised again where the chunk would have been taken. Leaving the block early, on an
    error of the consumer, stops the thread before the block is left, so nothing reads
    the file after the import has given up on it.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            iterator = iter(rows)
            while chunk := list(itertools.islice(iterator, size)):
                prepared = prepare(chunk)
                del chunk  # not kept alive while waiting for room in the queue
                if not put(prepared):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            put(error)
            return
        put(_DONE)

    def consume() -> Iterator[Any]:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    producer = threading.Thread(target=produce, name="import-read-ahead", daemon=True)
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    producer.start()
    try:
        yield consume()
    finally:
        stop.set()
        producer.join()
        sys.setswitchinterval(switch_interval)


def copy_ready(chunk: list[tuple]) -> tuple[int, bytes]:
    """A chunk's size and its rows in COPY's text format: a `prepare` for importers."""
    return len(chunk), copy_text(chunk)
