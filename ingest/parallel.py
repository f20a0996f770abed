"""Ingest many inputs on several cores: the pure stages in worker processes, the writes here.

Worker processes detect the format, parse, clean and prepare each input (``Pipeline.prepare``, no
database); this process stores the prepared inputs with ``Pipeline.save`` one by one in input
order, so the stored articles, duplicate links and change log are those of the serial run.

- Workers start by ``forkserver``: a fresh process that inherits none of this process's threads
  (daemon scheduler, fetch pools) or open SQLite / PostgreSQL connections, which a plain ``fork``
  would copy in whatever state they were in. Each worker builds its cleaner, extractor and signer
  from the same ``Settings`` as the caller's pipeline.
- At most ``in_flight`` inputs are submitted and not yet written (their bodies and prepared
  articles are in memory).
- Workers run at a lower priority (``WORKER_NICENESS``) than the writing process, which is the
  slower side, so that the writer never waits for a core the workers hold.
- A worker that dies (crash, killed) or an input that takes longer than ``timeout`` seconds ends
  as that input's error, with its bytes and fetch row stored as for any failed parse; the inputs
  that were out with it are prepared again.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from dedupe import Signer
from ingest.app import App
from ingest.cleaning import Cleaner
from ingest.corpus_dedupe import CorpusDeduper
from ingest.documents import ParsedDocument
from ingest.observability.logs import configure_logging, logging_configuration
from ingest.pipeline import IngestResult, Input, Pipeline, PreparedInput

log = logging.getLogger(__name__)

IN_FLIGHT_PER_WORKER = 4
# Seconds one input may take in a worker once it is the next to write; far above any real input.
DEFAULT_TIMEOUT = 600.0
START_METHOD = "forkserver"
WORKER_NICENESS = 15


@dataclass(frozen=True)
class Prepared:
    input: PreparedInput
    cpu_seconds: float  # the worker's CPU time for this input (see ``prepare``)


# --- in the worker ------------------------------------------------------------------------------

_pipeline: Pipeline | None = None
_clock = 0.0  # the worker's CPU time when it last reported

# Prepared once when a worker starts: what every process loads on first use (the language
# model, about 0.6 s of CPU; the feed parser's and cleaner's lazy tables) is then loaded before
# the first real input, which would otherwise carry it.
WARM_UP = Input(
    body=(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Warm-up</title><item>'
        b"<title>The river rose overnight</title><link>https://warm.example/1</link><guid>warm-1</guid>"
        b"<description><![CDATA[<p>The river rose by two metres overnight after three days of heavy rain, "
        b"and the town council closed the old bridge to traffic until the water goes down.</p>"
        b"<p>Residents of the lower streets were asked to move their cars to higher ground and to keep "
        b"an eye on the council's notices during the weekend.</p>]]></description>"
        b"</item></channel></rss>"
    ),
    source="warm-up",
    location="warm-up.xml",
    format="feed",
)


def start_worker(settings: Settings, logging_setup: tuple[str, bool] | None = None) -> None:
    """Build the worker's pipeline. Its session factory is bound to no engine: the pure stages
    never reach a database, and would fail loudly if they tried. ``logging_setup`` is the writing
    process's logging (``logging_configuration``), so that both write the same lines to stderr."""
    global _pipeline, _clock
    if logging_setup is not None:
        configure_logging(*logging_setup)
    # The writer is the slower side: on a busy machine it should be the last to wait for a core.
    os.nice(WORKER_NICENESS)
    app = App(settings)
    sessions: sessionmaker[Session] = sessionmaker()
    deduper = CorpusDeduper.from_settings(sessions, app.signer, settings.dedupe)
    _pipeline = Pipeline(sessions, app.cleaner, app.signer, deduper=deduper)
    _pipeline.prepare(WARM_UP)
    # What the worker holds from now on (modules, rules, the language model's tables) is never
    # garbage: out of the collector's sight, a full collection costs a sixth of what it did
    # (0.2 ms per entry in all before, 0.04 after).
    gc.freeze()
    _clock = time.process_time()


def prepare(item: Input) -> Prepared:
    """``item`` prepared, with the worker's CPU time since its previous input: this one's
    preparation, and the sending of the previous result and receiving of this input."""
    global _clock
    if _pipeline is None:
        raise RuntimeError("worker not started")
    try:
        prepared = _pipeline.prepare(item)
    except Exception as exc:
        log.exception("preparing %s failed", item.location)
        prepared = PreparedInput(item.location, _format(item), error=f"{item.location}: {type(exc).__name__}: {exc}")
    now = time.process_time()
    spent, _clock = now - _clock, now
    return Prepared(prepared, spent)


def _ready() -> None:
    """A no-op task: returns once a worker is up."""


def _format(item: Input) -> str:
    return item.format if item.format != "auto" else "unknown"


def failed_input(pipeline: Pipeline, item: Input, message: str) -> Prepared:
    """``item`` could not be prepared: its error, naming it, to store like a parse failure."""
    log.error("%s: %s", item.location, message)
    try:
        fmt = pipeline.detect(item)
    except Exception:
        fmt = _format(item)
    return Prepared(PreparedInput(item.location, fmt, error=f"{item.location}: {message}"), 0.0)


def new_pool(settings: Settings, workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context(START_METHOD)
    # The fork server imports the pipeline's modules once; each worker starts from it.
    context.set_forkserver_preload([__name__])
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=start_worker, initargs=(settings, logging_configuration())
    )
    # Workers up before any input is timed: a start under load is not an input's fault.
    for future in [pool.submit(_ready) for _ in range(workers)]:
        future.result()
    return pool


def end_pool(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's workers, busy or not, and wait for them."""
    # The executor has no public way to stop a worker that is still busy.
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


# --- in the writing process ---------------------------------------------------------------------


class ParallelIngest:
    """``Pipeline.ingest`` for many inputs, the pure part spread over ``workers`` processes.

    Use as a context manager (the worker pool lives until exit), or call ``close``.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        settings: Settings,
        workers: int,
        in_flight: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        task: Callable[[Input], Prepared] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.pipeline = pipeline
        self.settings = settings
        self.workers = workers
        self.in_flight = max(1, in_flight if in_flight is not None else IN_FLIGHT_PER_WORKER * workers)
        self.timeout = timeout
        # What a worker runs per input: ``prepare``; a module-level function (workers import it).
        self.task = task or prepare
        self.worker_cpu_seconds = 0.0
        self.restarts = 0
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ParallelIngest:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start the workers now (otherwise the first input waits for them)."""
        self._current_pool()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def ingest(self, items: Iterable[Input]) -> Iterator[IngestResult]:
        """Prepare ``items`` in the workers and save each here, yielding results in input order."""
        pending: deque[tuple[Input, Future[Prepared]]] = deque()
        source = iter(items)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.in_flight:
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                pending.append((item, self._submit(item)))
            if not pending:
                return
            item, future = pending.popleft()
            prepared = self._collect(item, future, pending)
            self.worker_cpu_seconds += prepared.cpu_seconds
            yield self.pipeline.save(item, prepared.input)

    def _collect(
        self, item: Input, future: Future[Prepared], pending: deque[tuple[Input, Future[Prepared]]]
    ) -> Prepared:
        try:
            return future.result(timeout=self.timeout)
        except BrokenProcessPool:
            # Some worker died; it may have been on another input. Try this one alone.
            self._replace_pool(pending, resubmit=False)
            return self._alone(item, pending)
        except FutureTimeout:
            self._replace_pool(pending, resubmit=True)
            return self._failed(item, f"not prepared within {self.timeout:g} s; the worker was stopped")
        except Exception as exc:  # e.g. a result that does not unpickle
            log.error("preparing %s failed", item.location, exc_info=exc)
            return self._failed(item, f"{type(exc).__name__}: {exc}")

    def _alone(self, item: Input, pending: deque[tuple[Input, Future[Prepared]]]) -> Prepared:
        try:
            prepared = self._current_pool().submit(self.task, item).result(timeout=self.timeout)
        except (BrokenProcessPool, FutureTimeout) as exc:
            self._replace_pool(pending, resubmit=True)
            reason = "the worker process died" if isinstance(exc, BrokenProcessPool) else "it timed out"
            return self._failed(item, f"not prepared: {reason} while preparing it")
        except Exception as exc:
            log.error("preparing %s failed", item.location, exc_info=exc)
            prepared = self._failed(item, f"{type(exc).__name__}: {exc}")
        self._resubmit(pending)
        return prepared

    def _failed(self, item: Input, message: str) -> Prepared:
        return failed_input(self.pipeline, item, message)

    def _submit(self, item: Input, pool: ProcessPoolExecutor | None = None) -> Future[Prepared]:
        try:
            return (pool or self._current_pool()).submit(self.task, item)
        except BrokenProcessPool as exc:
            # A worker died since the last look: the input waits for its turn like the others.
            failed: Future[Prepared] = Future()
            failed.set_exception(exc)
            return failed

    def _current_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = new_pool(self.settings, self.workers)
        return self._pool

    def _replace_pool(self, pending: deque[tuple[Input, Future[Prepared]]], resubmit: bool) -> None:
        """End the current pool (its workers stopped if still running) and, with ``resubmit``,
        send the pending inputs to a new one."""
        pool = self._pool
        self._pool = None
        self.restarts += 1
        if pool is not None:
            end_pool(pool)
        if resubmit:
            self._resubmit(pending)

    def _resubmit(self, pending: deque[tuple[Input, Future[Prepared]]]) -> None:
        """Inputs whose futures ended with the old pool go to the current one again."""
        pool = self._current_pool()
        for index, (item, future) in enumerate(pending):
            if future.done() and not future.cancelled() and future.exception() is None:
                continue  # prepared before the old pool ended
            future.cancel()
            pending[index] = (item, self._submit(item, pool))


class PooledPipeline(Pipeline):
    """A ``Pipeline`` whose ``ingest`` prepares the input in worker processes shared by every
    thread that calls it (the daemon's polls): each caller waits for its own input and writes it.

    The order of writes is the callers' order, as with ``Pipeline``. An input whose worker died
    (on it or on another thread's input) is tried again alone in a pool of its own; if that dies
    too, or after ``timeout`` seconds, it is stored as an error naming it.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        cleaner: Cleaner,
        signer: Signer,
        *,
        settings: Settings,
        workers: int,
        deduper: CorpusDeduper,
        timeout: float = DEFAULT_TIMEOUT,
        task: Callable[[Input], Prepared] | None = None,
    ) -> None:
        super().__init__(sessions, cleaner, signer, deduper=deduper)
        self.settings = settings
        self.workers = workers
        self.timeout = timeout
        self.task = task or prepare
        self._lock = threading.Lock()
        self._alone_lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._generation = 0
        self._closed = False

    def ingest(self, item: Input, documents: Sequence[ParsedDocument] | None = None) -> IngestResult:
        if documents is not None:  # blocks chosen by the caller: nothing to parse
            return super().ingest(item, documents)
        return self.save(item, self._prepared(item).input)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            self._generation += 1
            self._closed = True
        if pool is not None:
            end_pool(pool)

    def _prepared(self, item: Input) -> Prepared:
        while True:
            current = self._current_pool()
            if current is None:
                return failed_input(self, item, "not prepared: the pipeline was closed")
            generation, pool = current
            try:
                return pool.submit(self.task, item).result(timeout=self.timeout)
            except (BrokenProcessPool, CancelledError):
                # A worker died, on this input or another thread's: this one is tried alone.
                self._discard(generation)
                return self._alone(item)
            except FutureTimeout:
                self._discard(generation)
                return failed_input(self, item, f"not prepared within {self.timeout:g} s; the worker was stopped")
            except RuntimeError as exc:
                if "after shutdown" not in str(exc):
                    return failed_input(self, item, f"{type(exc).__name__}: {exc}")
                # another thread ended this pool between our look and our submit: take the next
            except Exception as exc:
                return failed_input(self, item, f"{type(exc).__name__}: {exc}")

    def _alone(self, item: Input) -> Prepared:
        """``item`` in a pool of its own, one at a time: if that worker dies too, the input is the cause."""
        with self._alone_lock:
            if self._closed:
                return failed_input(self, item, "not prepared: the pipeline was closed")
            pool = new_pool(self.settings, 1)
            try:
                return pool.submit(self.task, item).result(timeout=self.timeout)
            except BrokenProcessPool:
                return failed_input(self, item, "not prepared: the worker process died while preparing it")
            except FutureTimeout:
                return failed_input(self, item, f"not prepared within {self.timeout:g} s; the worker was stopped")
            except Exception as exc:
                return failed_input(self, item, f"{type(exc).__name__}: {exc}")
            finally:
                end_pool(pool)

    def _current_pool(self) -> tuple[int, ProcessPoolExecutor] | None:
        with self._lock:
            if self._closed:
                return None
            if self._pool is None:
                self._pool = new_pool(self.settings, self.workers)
            return self._generation, self._pool

    def _discard(self, generation: int) -> None:
        with self._lock:
            if generation != self._generation or self._pool is None:
                return  # already replaced by another thread
            pool, self._pool = self._pool, None
            self._generation += 1
        end_pool(pool)


def ingest_all(
    pipeline: Pipeline, settings: Settings, items: Iterable[Input], workers: int = 1
) -> Iterator[IngestResult]:
    """``pipeline.ingest`` for each item (``workers`` 1), or the same with worker processes."""
    if workers <= 1:
        for item in items:
            yield pipeline.ingest(item)
        return
    with ParallelIngest(pipeline, settings, workers) as parallel:
        yield from parallel.ingest(items)


__all__ = ["DEFAULT_TIMEOUT", "ParallelIngest", "PooledPipeline", "Prepared", "ingest_all", "prepare", "start_worker"]
