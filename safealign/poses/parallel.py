"""Map a picklable function over items in parallel: in-process, a ``spawn`` process pool, or Dask.

``fork`` is never used: a process forked after mediapipe ran crashes (env.md addendum). Results come back in
input order whatever the backend, so every backend produces identical outputs.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from queue import Empty, Queue
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from tqdm import tqdm

from safealign.errors import ConfigError

T = TypeVar("T")
DASK_CONNECT_TIMEOUT = "20s"   # how long to wait for a configured scheduler before giving up


def parallel_map(fn: Callable[[Any], Any], items: Sequence[Any], workers: int = 1, dask_address: str = "",
                 dask_workers: int = 0, desc: str = "items") -> list[Any]:
    """``[fn(x) for x in items]`` with a progress bar.

    Backend: Dask when ``dask_address`` is set (an existing scheduler) or ``dask_workers > 0`` (a local
    cluster of that many single-threaded worker processes); else a spawn pool when ``workers > 1``;
    else the calling process.
    """
    items = list(items)
    if dask_address or dask_workers > 0:
        return _dask_map(fn, items, dask_address, dask_workers, desc)
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in tqdm(items, desc=desc, unit="file")]
    results: list[Any] = [None] * len(items)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=ctx) as pool:
        futures = {pool.submit(fn, x): i for i, x in enumerate(items)}
        for fut in tqdm(as_completed(futures), total=len(futures), desc=desc, unit="file"):
            results[futures[fut]] = fut.result()
    return results


def _dask_map(fn: Callable[[Any], Any], items: list[Any], address: str, n_workers: int,
              desc: str) -> list[Any]:
    from distributed import Client, LocalCluster, as_completed as dask_completed

    cluster = None
    if address:
        try:
            client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
        except OSError as exc:  # distributed raises OSError/TimeoutError when no scheduler answers
            raise ConfigError(f"dask_address {address!r}: no Dask scheduler reachable ({exc})") from exc
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(fn, items, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(items)
        for fut in tqdm(dask_completed(futures), total=len(futures), desc=desc, unit="file"):
            results[index[fut.key]] = fut.result()
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def prefetched(iterable: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Iterate ``iterable`` in a background thread, ``depth`` items ahead (overlaps decoding with inference).

    An exception raised by the producer is re-raised in the consumer at the point it occurred.
    """
    queue: Queue = Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in iterable:
                if stop.is_set():
                    return
                queue.put((item, None))
            queue.put((done, None))
        except BaseException as exc:  # handed to the consumer, re-raised there
            queue.put((done, exc))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item, exc = queue.get()
            if item is done:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                queue.get_nowait()
            except Empty:
                thread.join(timeout=0.05)
