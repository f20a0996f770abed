"""Progress for long operator commands, and stopping them cleanly on Ctrl-C.

On a terminal: a rich progress bar with count, rate and ETA on stderr. Otherwise (logs, cron,
CI): a plain line on stderr every few seconds, so a log file shows that the run is alive.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

PLAIN_INTERVAL_SECONDS = 5.0


class Reporter(Protocol):
    def advance(self) -> None: ...


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class PlainReporter:
    """One line every ``interval`` seconds: done/total, percentage, rate, ETA."""

    def __init__(self, label: str, total: int, stream: TextIO, interval: float = PLAIN_INTERVAL_SECONDS) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.interval = interval
        self.done = 0
        self.started = time.monotonic()
        self.last = self.started

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        percent = 100 * self.done / self.total if self.total else 100.0
        eta = _duration((self.total - self.done) / rate) if rate > 0 else "?"
        return f"{self.label}: {self.done}/{self.total} ({percent:.0f}%), {rate:.1f}/s, ETA {eta}"


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("?/s" if speed is None else f"{speed:.1f}/s", style="progress.data.speed")


class RichReporter:
    def __init__(self, progress: Progress, task_id: int) -> None:
        self.progress = progress
        self.task_id = task_id

    def advance(self) -> None:
        self.progress.advance(self.task_id)  # type: ignore[arg-type]


@contextmanager
def progress(label: str, total: int, stream: TextIO | None = None) -> Iterator[Reporter]:
    out = stream if stream is not None else sys.stderr
    if not out.isatty():
        yield PlainReporter(label, total, out)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    # Result lines printed to stdout go above the bar, but only when stdout is the same terminal;
    # a redirected stdout must keep receiving them.
    with Progress(
        *columns,
        console=Console(file=out),
        redirect_stdout=sys.stdout.isatty(),
        redirect_stderr=False,
        transient=False,
    ) as bar:
        task_id = bar.add_task(label, total=total)
        yield RichReporter(bar, int(task_id))


class StopRequest:
    """Set by the first Ctrl-C (SIGINT) or SIGTERM; the loop stops after the current item.

    A second Ctrl-C interrupts at once (the item in flight rolls back).
    """

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""

    def __bool__(self) -> bool:
        return self.requested


@contextmanager
def stop_on_interrupt(notice: TextIO | None = None) -> Iterator[StopRequest]:
    stop = StopRequest()
    out = notice if notice is not None else sys.stderr

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.requested = True
        stop.signal_name = signal.Signals(signum).name
        out.write(f"\n{stop.signal_name}: stopping after the current article (Ctrl-C again to abort it)\n")
        out.flush()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = ["PlainReporter", "Reporter", "StopRequest", "progress", "stop_on_interrupt"]
