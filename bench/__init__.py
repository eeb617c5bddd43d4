"""Benchmarks for `python manage.py bench NAME`.

Each benchmark measures the product and a baseline on the same data in the same run
(a hand-written SQL query, a raw COPY), so the ratio holds on a noisy machine. Data a
benchmark creates lives in a transaction that is rolled back: nothing is left behind.
"""

from __future__ import annotations

import importlib
import pkgutil
import resource
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction

REGISTRY: dict[str, Benchmark] = {}


@dataclass(frozen=True)
class Benchmark:
    name: str
    default_scale: int
    run: Callable[..., Iterator[dict]]
    description: str
    reads_data: bool = False  # takes `data=Path` from `bench NAME --data DIR`


def benchmark(name: str, *, default_scale: int, description: str, reads_data: bool = False):
    def register(function: Callable[..., Iterator[dict]]):
        REGISTRY[name] = Benchmark(name, default_scale, function, description, reads_data)
        return function

    return register


@contextmanager
def rolled_back(*, vacuum: Sequence[str] = ()) -> Iterator[None]:
    """A transaction that always ends in a rollback: what a benchmark writes never stays.

    Rolled-back rows still fill the tables and their indexes until a vacuum clears them,
    and a million of them make the next run slower; `vacuum` names the tables to clear
    at once (when not inside an enclosing transaction, where VACUUM cannot run)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    if vacuum and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {', '.join(vacuum)}")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def median_seconds(function: Callable[[], object], *, repeat: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        function()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def result(
    *,
    bench: str,
    n: int,
    seconds: float,
    baseline: str,
    baseline_seconds: float,
    per: str,
    items: int = 1,
    **extra,
) -> dict:
    """items: how many of `per` one measured run handled (a page: 1; an import: its rows),
    so that per_second is a throughput."""
    return {
        "bench": bench,
        "n": n,
        "seconds": round(seconds, 6),
        "per_second": round(items / seconds, 2) if seconds else None,
        "per": per,
        "baseline": baseline,
        "baseline_seconds": round(baseline_seconds, 6),
        "ratio": round(seconds / baseline_seconds, 2) if baseline_seconds else None,
        "peak_rss_mb": peak_rss_mb(),
        **extra,
    }


def load_all() -> None:
    """Every module of this package, so that each benchmark registers itself: adding one
    is adding its module."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
