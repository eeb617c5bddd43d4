import threading

import pytest

from contacts.imports.ahead import chunks_read_ahead


def test_chunks_come_in_order_prepared_in_another_thread():
    # given
    threads = set()

    def prepare(chunk):
        threads.add(threading.current_thread().name)
        return sum(chunk)

    # when
    with chunks_read_ahead(range(10), size=4, prepare=prepare) as chunks:
        sums = list(chunks)

    # then
    assert sums == [0 + 1 + 2 + 3, 4 + 5 + 6 + 7, 8 + 9]
    assert threads == {"import-read-ahead"}


def test_an_error_while_reading_is_raised_where_the_chunk_is_taken():
    def rows():
        yield from range(5)
        raise ValueError("line 6: not UTF-8")

    with pytest.raises(ValueError, match="line 6"), chunks_read_ahead(rows(), size=2) as chunks:
        assert next(chunks) == [0, 1]
        list(chunks)


def test_leaving_early_stops_the_reading_thread():
    # given: more rows than the queue can hold, read until the consumer gives up
    read = []

    def rows():
        for number in range(1_000_000):
            read.append(number)
            yield number

    # when
    with pytest.raises(RuntimeError), chunks_read_ahead(rows(), size=10, depth=2) as chunks:
        next(chunks)
        raise RuntimeError("the database refused the chunk")

    # then: the thread has ended, having read no more than the chunks it could hand over
    assert not any(thread.name == "import-read-ahead" for thread in threading.enumerate())
    assert len(read) <= 10 * 4
